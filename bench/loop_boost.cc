// The same three loop benchmarks with Boost.Fiber (dev-only comparison), so
// both are measured side by side on the same machine.
#include <boost/fiber/all.hpp>
#include <chrono>
#include <random>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"

namespace {

using evergreen::bench::peak_rss_bytes;
using evergreen::bench::seconds_per;

void BM_BoostFiberYield(benchmark::State& state) {
  bool done = false;
  boost::fibers::fiber partner([&done] {
    while (!done) boost::this_fiber::yield();
  });
  for (auto _ : state) boost::this_fiber::yield();
  done = true;
  partner.join();
  state.counters["seconds_per_yield"] = seconds_per(2.0 * static_cast<double>(state.iterations()));
}
BENCHMARK(BM_BoostFiberYield);

void BM_BoostFiberSpawnJoin(benchmark::State& state) {
  constexpr int kAliveAtOnce = 10000;
  boost::fibers::pooled_fixedsize_stack stacks(64 * 1024);
  std::vector<boost::fibers::fiber> fibers;
  fibers.reserve(kAliveAtOnce);
  int64_t counter = 0;
  for (auto _ : state) {
    for (int i = 0; i < kAliveAtOnce; ++i) {
      fibers.emplace_back(std::allocator_arg, stacks, [&counter] { ++counter; });
    }
    for (auto& fiber : fibers) fiber.join();
    fibers.clear();
  }
  benchmark::DoNotOptimize(counter);
  state.counters["seconds_per_task"] =
      seconds_per(static_cast<double>(state.iterations()) * kAliveAtOnce);
}
BENCHMARK(BM_BoostFiberSpawnJoin);

void BM_BoostFiberTimers(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> delay_us(0, 100'000);
  boost::fibers::pooled_fixedsize_stack stacks(64 * 1024);
  // Drawn before the clock starts, as in //bench:timers and bench/go_compare.
  std::vector<std::chrono::microseconds> delays(static_cast<size_t>(count));
  double wall_ms = 0;
  for (auto _ : state) {
    for (auto& delay : delays) delay = std::chrono::microseconds(delay_us(random));
    auto start = std::chrono::steady_clock::now();
    std::vector<boost::fibers::fiber> fibers;
    fibers.reserve(count);
    for (auto delay : delays) {
      fibers.emplace_back(std::allocator_arg, stacks,
                          [delay] { boost::this_fiber::sleep_for(delay); });
    }
    for (auto& fiber : fibers) fiber.join();
    wall_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  state.counters["wall_ms"] = wall_ms / static_cast<double>(state.iterations());
  state.counters["peak_rss_MiB"] = static_cast<double>(peak_rss_bytes()) / (1 << 20);
}
BENCHMARK(BM_BoostFiberTimers)->ArgName("tasks")->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
