// CPU-bound work spread over a LoopGroup: how much faster two loops finish
// it than one (issue 17 asks >= 1.8x on a 2-core machine).
// - BM_CpuBoundWork/loops:N: 64 chunks of pure computation (about 1 ms
//   each) posted round-robin to a pinned LoopGroup(N); wall time per batch.
// - BM_CpuBoundSpeedup: the same batch on LoopGroup(1) and LoopGroup(2)
//   alternately within each iteration, so both see the same background load;
//   reports their time ratio as `one_over_two_loops`.
// Run pinned and optimized:
//   ./bazelw run --config=opt //bench:loop_group_scaling
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>

#include "benchmark/benchmark.h"
#include "evergreen/loop/loop_group.h"

namespace evergreen {
namespace {

constexpr int kChunks = 64;
constexpr int kStepsPerChunk = 1'000'000;

// Pure computation: no memory traffic, nothing shared between chunks.
uint64_t compute_chunk(uint64_t seed) {
  uint64_t x = seed | 1;
  for (int i = 0; i < kStepsPerChunk; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

// Runs kChunks chunks over `group`'s loops; returns the wall time.
double run_batch(LoopGroup& group) {
  std::atomic<int> left{kChunks};
  std::atomic<uint64_t> sink{0};
  std::promise<void> done;
  auto started = std::chrono::steady_clock::now();
  for (int chunk = 0; chunk < kChunks; ++chunk) {
    group.post(static_cast<size_t>(chunk) % group.size(), [&, chunk] {
      sink.fetch_xor(compute_chunk(static_cast<uint64_t>(chunk)), std::memory_order_relaxed);
      if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) done.set_value();
    });
  }
  done.get_future().wait();
  benchmark::DoNotOptimize(sink.load());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void BM_CpuBoundWork(benchmark::State& state) {
  LoopGroup group(static_cast<size_t>(state.range(0)),
                  LoopGroupOptions{.pin_threads = true, .name = "cpubound"});
  for (auto _ : state) state.SetIterationTime(run_batch(group));
  state.counters["chunks_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kChunks, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CpuBoundWork)
    ->ArgName("loops")
    ->Arg(1)
    ->Arg(2)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_CpuBoundSpeedup(benchmark::State& state) {
  LoopGroup one(1, LoopGroupOptions{.pin_threads = true, .name = "one"});
  LoopGroup two(2, LoopGroupOptions{.pin_threads = true, .name = "two"});
  double on_one = 0, on_two = 0;
  for (auto _ : state) {
    on_one += run_batch(one);
    on_two += run_batch(two);
  }
  state.counters["one_loop_ms_per_batch"] = on_one * 1e3 / static_cast<double>(state.iterations());
  state.counters["two_loops_ms_per_batch"] = on_two * 1e3 / static_cast<double>(state.iterations());
  state.counters["one_over_two_loops"] = on_one / on_two;
}
BENCHMARK(BM_CpuBoundSpeedup)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
