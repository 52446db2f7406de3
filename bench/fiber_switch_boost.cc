// Boost.Context's jump_fcontext measured the way fiber_switch.cc measures
// evergreen fibers: the yardstick for our switch.
//
//   ./bazelw run --config=opt //bench:fiber_switch_boost
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "boost/context/detail/fcontext.hpp"

namespace {

namespace ctx = boost::context::detail;
using evergreen::bench::seconds_per;

constexpr size_t kStackSize = 64 * 1024;

// A 64 KiB stack, mapped once per benchmark (as a pool would reuse it).
class Stack {
 public:
  Stack() {
    memory_ = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (memory_ == MAP_FAILED) throw std::runtime_error("mmap failed");
  }
  ~Stack() { munmap(memory_, kStackSize); }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  void* top() const { return static_cast<char*>(memory_) + kStackSize; }

 private:
  void* memory_;
};

// Switches back to whoever jumped in, forever.
void echo(ctx::transfer_t from) {
  for (;;) from = ctx::jump_fcontext(from.fctx, nullptr);
}

// The main context and one context switch back and forth: two switches per
// iteration.
void BM_BoostJumpFcontext(benchmark::State& state) {
  Stack stack;
  ctx::fcontext_t other = ctx::make_fcontext(stack.top(), kStackSize, echo);
  for (auto _ : state) other = ctx::jump_fcontext(other, nullptr).fctx;
  state.SetItemsProcessed(state.iterations() * 2);
  state.counters["seconds_per_switch"] = seconds_per(static_cast<double>(state.iterations()) * 2);
}
BENCHMARK(BM_BoostJumpFcontext);

// The closest Boost.Context equivalent of BM_FiberCreateRunDestroy: make a
// context on a reused stack, jump in, run a trivial function, jump back.
void run_once(ctx::transfer_t from) {
  ++*static_cast<int64_t*>(from.data);
  ctx::jump_fcontext(from.fctx, nullptr);
}

void BM_BoostCreateRunDestroy(benchmark::State& state) {
  Stack stack;
  int64_t runs = 0;
  for (auto _ : state) {
    ctx::fcontext_t context = ctx::make_fcontext(stack.top(), kStackSize, run_once);
    ctx::jump_fcontext(context, &runs);
  }
  benchmark::DoNotOptimize(runs);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BoostCreateRunDestroy);

}  // namespace

BENCHMARK_MAIN();
