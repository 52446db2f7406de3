// Work crossing loops of a LoopGroup(2) with pinned threads:
// - BM_ThreadSafeQueuePingPong: a task on loop 0 and one on loop 1 bounce an
//   int through two ThreadSafeQueues; the cost of one round trip (two
//   cross-thread hand-offs, each a wake-up of the other loop).
// - BM_SpinningAtomicsPingPong: this machine's floor for the same round trip:
//   two threads pinned to two CPUs bouncing a counter through two atomics by
//   spinning (a cache line crossing each way, no sleeping).
// - BM_ThreadSafeQueueThroughput: items per second from a task on loop 0 to
//   one on loop 1 through one bounded ThreadSafeQueue.
// - BM_RoundTripAgainstFloor: the first two alternated within each
//   iteration (same background load for both); reports ours, the floor and
//   their ratio, over the whole run and for the fastest iteration of each
//   (best_*: what is left once time slices lost to other processes are
//   filtered out; run with a longer --benchmark_min_time for many short
//   iterations).
// - BM_ThreadSafeQueueBatchThroughput: items per second from loop 0 to loop
//   1 when they travel in batches (a std::vector<int> per put).
// Run pinned and optimized:
//   ./bazelw run --config=opt //bench:cross_loop_ping_pong
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/loop/loop_group.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/thread_safe_queue.h"

namespace evergreen {
namespace {

// One timed run of `round_trips` round trips through two ThreadSafeQueues
// between loop 0 and loop 1 of `group`; seconds.
double queue_round_trips(LoopGroup& group, int round_trips) {
  ThreadSafeQueue<int> ping, pong;
  std::promise<void> done;
  auto started = std::chrono::steady_clock::now();
  group.post(0, [&] {
    for (int i = 0; i < round_trips; ++i) {
      ping.put(i);
      benchmark::DoNotOptimize(pong.get());
    }
    done.set_value();
  });
  group.post(1, [&] {
    for (int i = 0; i < round_trips; ++i) pong.put(ping.get());
  });
  done.get_future().wait();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void BM_ThreadSafeQueuePingPong(benchmark::State& state) {
  const int round_trips = static_cast<int>(state.range(0));
  LoopGroup group(2, LoopGroupOptions{.pin_threads = true, .name = "pingpong"});
  for (auto _ : state) benchmark::DoNotOptimize(queue_round_trips(group, round_trips));
  state.counters["seconds_per_round_trip"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * round_trips,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ThreadSafeQueuePingPong)
    ->ArgName("round_trips")
    ->Arg(10'000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_ThreadSafeQueueThroughput(benchmark::State& state) {
  const int items = static_cast<int>(state.range(0));
  LoopGroup group(2, LoopGroupOptions{.pin_threads = true, .name = "throughput"});
  for (auto _ : state) {
    ThreadSafeQueue<int> queue(1024);
    std::promise<void> done;
    group.post(0, [&] {
      for (int i = 0; i < items; ++i) queue.put(i);
    });
    group.post(1, [&] {
      for (int i = 0; i < items; ++i) benchmark::DoNotOptimize(queue.get());
      done.set_value();
    });
    done.get_future().wait();
  }
  state.counters["items_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * items, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ThreadSafeQueueThroughput)
    ->ArgName("items")
    ->Arg(1'000'000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The floor spins on both sides: on a single CPU every hand-off would wait
// for the scheduler's time slice, so it needs two.
bool has_two_cpus(benchmark::State& state) {
  if (bench::allowed_cpus().size() >= 2) return true;
  state.SkipWithError("needs two CPUs to spin on (taskset allows one)");
  return false;
}

// The floor: two threads pinned to the group's two CPUs bouncing a counter
// through two atomics by spinning; seconds for `round_trips`.
double spinning_round_trips(int round_trips) {
  std::vector<int> cpus = bench::allowed_cpus();
  alignas(64) std::atomic<int> ping{-1};
  alignas(64) std::atomic<int> pong{-1};
  std::promise<void> ready;
  std::thread first([&] {
    bench::pin_this_thread(cpus[0]);
    ready.get_future().wait();
    for (int i = 0; i < round_trips; ++i) {
      ping.store(i, std::memory_order_release);
      while (pong.load(std::memory_order_acquire) != i) {
      }
    }
  });
  std::thread second([&] {
    bench::pin_this_thread(cpus[1 % cpus.size()]);
    for (int i = 0; i < round_trips; ++i) {
      while (ping.load(std::memory_order_acquire) != i) {
      }
      pong.store(i, std::memory_order_release);
    }
  });
  auto started = std::chrono::steady_clock::now();
  ready.set_value();
  first.join();
  auto elapsed = std::chrono::steady_clock::now() - started;
  second.join();
  return std::chrono::duration<double>(elapsed).count();
}

void BM_SpinningAtomicsPingPong(benchmark::State& state) {
  if (!has_two_cpus(state)) return;
  const int round_trips = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(spinning_round_trips(round_trips));
  state.counters["seconds_per_round_trip"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * round_trips,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SpinningAtomicsPingPong)
    ->ArgName("round_trips")
    ->Arg(10'000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_RoundTripAgainstFloor(benchmark::State& state) {
  const int round_trips = static_cast<int>(state.range(0));
  // range(1): the loops' cross_thread_spin in microseconds (0: no spinning,
  // every hand-off sleeps and is woken through the eventfd).
  if (!has_two_cpus(state)) return;
  LoopGroupOptions options{.pin_threads = true, .name = "paired"};
  options.loop.cross_thread_spin = std::chrono::microseconds(state.range(1));
  LoopGroup group(2, options);
  double ours = 0, floor = 0;
  // The fastest iteration of each: on a machine others load, most
  // iterations include time slices lost to other processes (the spinning
  // floor as much as ours); the best one shows the cost without them.
  double best_ours = 1e9, best_floor = 1e9;
  for (auto _ : state) {
    double floor_once = spinning_round_trips(round_trips);
    double ours_once = queue_round_trips(group, round_trips);
    floor += floor_once;
    ours += ours_once;
    best_floor = std::min(best_floor, floor_once);
    best_ours = std::min(best_ours, ours_once);
  }
  const double count = static_cast<double>(state.iterations()) * round_trips;
  state.counters["ours_ns_per_round_trip"] = ours / count * 1e9;
  state.counters["floor_ns_per_round_trip"] = floor / count * 1e9;
  state.counters["ours_over_floor"] = ours / floor;
  state.counters["best_ours_ns"] = best_ours / round_trips * 1e9;
  state.counters["best_floor_ns"] = best_floor / round_trips * 1e9;
  state.counters["best_ours_over_best_floor"] = best_ours / best_floor;
}
BENCHMARK(BM_RoundTripAgainstFloor)
    ->ArgNames({"round_trips", "spin_us"})
    ->Args({20'000, 0})
    ->Args({20'000, 50})
    // Short iterations, many of them: see best_ours_over_best_floor.
    ->Args({1'000, 50})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_ThreadSafeQueueBatchThroughput(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  const int batches = 4'000'000 / batch;
  LoopGroup group(2, LoopGroupOptions{.pin_threads = true, .name = "batches"});
  for (auto _ : state) {
    ThreadSafeQueue<std::vector<int>> queue(64);
    std::promise<void> done;
    group.post(0, [&] {
      for (int b = 0; b < batches; ++b) {
        std::vector<int> items(static_cast<size_t>(batch));
        for (int i = 0; i < batch; ++i) items[static_cast<size_t>(i)] = b * batch + i;
        queue.put(std::move(items));
      }
    });
    group.post(1, [&] {
      int64_t sum = 0;
      for (int b = 0; b < batches; ++b) {
        for (int item : queue.get()) sum += item;
      }
      benchmark::DoNotOptimize(sum);
      done.set_value();
    });
    done.get_future().wait();
  }
  state.counters["items_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * batches * batch, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ThreadSafeQueueBatchThroughput)
    ->ArgName("batch")
    ->Arg(64)
    ->Arg(1024)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
