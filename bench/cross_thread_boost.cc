// Boost.Fiber counterpart of cross_loop_ping_pong's round trip (dev-only
// comparison): two OS threads pinned to two CPUs, each running a fiber
// (its thread's main fiber), bounce an int through two
// boost::fibers::buffered_channel<int>. A fiber blocked on a channel is
// woken by the other thread through its scheduler (a condition variable
// under the default round_robin algorithm).
//   ./bazelw run --config=opt //bench:cross_thread_boost
#include <pthread.h>
#include <sched.h>

#include <boost/fiber/all.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"

namespace {

void BM_BoostCrossThreadChannelPingPong(benchmark::State& state) {
  const int round_trips = static_cast<int>(state.range(0));
  std::vector<int> cpus = evergreen::bench::allowed_cpus();
  for (auto _ : state) {
    boost::fibers::buffered_channel<int> ping(2), pong(2);
    std::thread other([&] {
      evergreen::bench::pin_this_thread(cpus[1 % cpus.size()]);
      for (int i = 0; i < round_trips; ++i) pong.push(ping.value_pop());
    });
    std::thread first([&] {
      evergreen::bench::pin_this_thread(cpus[0]);
      for (int i = 0; i < round_trips; ++i) {
        ping.push(i);
        benchmark::DoNotOptimize(pong.value_pop());
      }
    });
    first.join();
    other.join();
  }
  state.counters["seconds_per_round_trip"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * round_trips,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_BoostCrossThreadChannelPingPong)
    ->ArgName("round_trips")
    ->Arg(10'000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
