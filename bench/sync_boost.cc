// Boost.Fiber counterparts of channel_ping_pong and idle_tasks (dev-only
// comparison), measured the same way on the same machine:
//   BM_BoostUnbufferedChannelPingPong  two fibers, unbuffered_channel<int>,
//                                      time per round trip
//   BM_BoostIdleFibers                 N fibers with 16 KiB stacks blocked on
//                                      one condition; creation time and
//                                      resident memory per fiber. Stacks come
//                                      from fixedsize_stack (malloc: only the
//                                      pages a fiber touches are resident);
//                                      pooled_fixedsize_stack measured about
//                                      13 KB per fiber here, as it touches more.
#include <unistd.h>

#include <algorithm>
#include <boost/fiber/all.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"

namespace {

using evergreen::bench::peak_rss_bytes;
using evergreen::bench::seconds_per;

using evergreen::bench::current_rss_bytes;

void BM_BoostUnbufferedChannelPingPong(benchmark::State& state) {
  const int round_trips = static_cast<int>(state.range(0));
  for (auto _ : state) {
    boost::fibers::unbuffered_channel<int> ping, pong;
    boost::fibers::fiber pinger([&] {
      for (int i = 0; i < round_trips; ++i) {
        ping.push(i);
        int value = 0;
        pong.pop(value);
        benchmark::DoNotOptimize(value);
      }
    });
    boost::fibers::fiber ponger([&] {
      for (int i = 0; i < round_trips; ++i) {
        int value = 0;
        ping.pop(value);
        pong.push(value);
      }
    });
    pinger.join();
    ponger.join();
  }
  state.counters["seconds_per_round_trip"] =
      seconds_per(static_cast<double>(state.iterations()) * round_trips);
  state.counters["round_trips"] = round_trips;
}
BENCHMARK(BM_BoostUnbufferedChannelPingPong)
    ->ArgName("round_trips")
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

void BM_BoostIdleFibers(benchmark::State& state) {
  const int64_t count = state.range(0);
  constexpr size_t kStackSize = 16 * 1024;
  double rss_per_fiber = 0, peak_per_fiber = 0, create_seconds = 0;
  for (auto _ : state) {
    boost::fibers::fixedsize_stack stacks(kStackSize);
    boost::fibers::mutex mutex;
    boost::fibers::condition_variable_any released;
    bool set = false;
    std::vector<boost::fibers::fiber> fibers;
    fibers.reserve(count);
    const int64_t rss_before = current_rss_bytes();
    const int64_t peak_before = peak_rss_bytes();

    auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < count; ++i) {
      fibers.emplace_back(std::allocator_arg, stacks, [&] {
        std::unique_lock<boost::fibers::mutex> hold(mutex);
        released.wait(hold, [&] { return set; });
      });
    }
    boost::this_fiber::yield();  // every fiber runs until it blocks
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.SetIterationTime(seconds);
    create_seconds += seconds;

    const int64_t rss_idle = current_rss_bytes();
    rss_per_fiber += static_cast<double>(rss_idle - rss_before) / static_cast<double>(count);
    const int64_t peak_after = peak_rss_bytes();
    peak_per_fiber += static_cast<double>(peak_after - std::min(peak_before, rss_before)) /
                      static_cast<double>(count);

    {
      std::lock_guard<boost::fibers::mutex> hold(mutex);
      set = true;
    }
    released.notify_all();
    for (auto& fiber : fibers) fiber.join();
  }
  const double runs = static_cast<double>(state.iterations());
  state.counters["create_ns_per_task"] = create_seconds * 1e9 / runs / static_cast<double>(count);
  state.counters["rss_bytes_per_task"] = rss_per_fiber / runs;
  state.counters["peak_rss_bytes_per_task"] = peak_per_fiber / runs;
  state.counters["tasks"] = static_cast<double>(count);
}
BENCHMARK(BM_BoostIdleFibers)
    ->ArgName("tasks")
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
