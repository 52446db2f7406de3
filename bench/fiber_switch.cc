// The cost of evergreen's fiber primitives: one switch, and a fiber's whole
// life (construct, first switch, target returns, destroy). Compare with
// fiber_switch_boost.cc, which measures Boost.Context's jump_fcontext.
//
//   ./bazelw run --config=opt //bench:fiber_switch
#include <exception>
#include <memory>
#include <optional>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/fiber/fiber.h"

namespace evergreen {
namespace {

// Thrown into a fiber that loops forever, so that it ends before it is
// destroyed.
struct Stop {};

void stop(Fiber& fiber) {
  try {
    fiber.throw_into(std::make_exception_ptr(Stop{}));
  } catch (const Stop&) {
  }
}

// The main fiber and one fiber switch back and forth: two switches per
// iteration.
void BM_FiberSwitchWithMain(benchmark::State& state) {
  Fiber* main = Fiber::current();
  Fiber fiber([main] {
    for (;;) main->switch_to();
  });
  for (auto _ : state) fiber.switch_to();
  stop(fiber);
  state.SetItemsProcessed(state.iterations() * 2);
  state.counters["seconds_per_switch"] =
      bench::seconds_per(static_cast<double>(state.iterations()) * 2);
}
BENCHMARK(BM_FiberSwitchWithMain);

// Two fibers, neither of them the main one, switch back and forth; the
// benchmark loop runs in one of them.
void BM_FiberSwitchBetweenFibers(benchmark::State& state) {
  Fiber* partner_fiber = nullptr;
  Fiber driver([&] {
    for (auto _ : state) partner_fiber->switch_to();
  });
  Fiber partner([&] {
    for (;;) driver.switch_to();
  });
  partner_fiber = &partner;
  driver.switch_to();  // runs the whole benchmark loop, then ends back here
  stop(partner);
  state.SetItemsProcessed(state.iterations() * 2);
  state.counters["seconds_per_switch"] =
      bench::seconds_per(static_cast<double>(state.iterations()) * 2);
}
BENCHMARK(BM_FiberSwitchBetweenFibers);

// A fiber's whole life: construct, switch in (takes a stack from the pool),
// the target returns (stack back to the pool, control back here), destroy.
void BM_FiberCreateRunDestroy(benchmark::State& state) {
  int64_t runs = 0;
  for (auto _ : state) {
    Fiber fiber([&runs] { ++runs; });
    fiber.switch_to();
  }
  benchmark::DoNotOptimize(runs);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FiberCreateRunDestroy);

// Many fibers alive at once, as in a server: start `range(0)` fibers that
// each suspend once, then resume them all to the end. Stacks cycle through
// the pool; per fiber: construction, two switches in, two out. The Fiber
// objects live in storage allocated once (as the event loop embeds a Fiber in
// each task), so the figure is not the heap allocator's.
void BM_FiberManyAlive(benchmark::State& state) {
  const auto count = static_cast<size_t>(state.range(0));
  Fiber* main = Fiber::current();
  auto fibers = std::make_unique<std::optional<Fiber>[]>(count);
  for (auto _ : state) {
    for (size_t i = 0; i < count; ++i) {
      fibers[i].emplace([main] { main->switch_to(); });
      fibers[i]->switch_to();
    }
    for (size_t i = 0; i < count; ++i) fibers[i]->switch_to();
    for (size_t i = 0; i < count; ++i) fibers[i].reset();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(count));
  state.counters["seconds_per_fiber"] =
      bench::seconds_per(static_cast<double>(state.iterations()) * static_cast<double>(count));
}
BENCHMARK(BM_FiberManyAlive)->ArgName("fibers")->Arg(1000)->Arg(10000);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
