// Work crossing loops of a LoopGroup(2) with pinned threads:
// - BM_ThreadSafeQueuePingPong: a task on loop 0 and one on loop 1 bounce an
//   int through two ThreadSafeQueues; the cost of one round trip (two
//   cross-thread hand-offs, each a wake-up of the other loop).
// - BM_SpinningAtomicsPingPong: this machine's floor for the same round trip:
//   two threads pinned to two CPUs bouncing a counter through two atomics by
//   spinning (a cache line crossing each way, no sleeping).
// - BM_ThreadSafeQueueThroughput: items per second from a task on loop 0 to
//   one on loop 1 through one bounded ThreadSafeQueue.
// Run pinned and optimized:
//   ./bazelw run --config=opt //bench:cross_loop_ping_pong
#include <pthread.h>
#include <sched.h>

#include <atomic>
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

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

void pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void BM_ThreadSafeQueuePingPong(benchmark::State& state) {
  const int round_trips = static_cast<int>(state.range(0));
  LoopGroup group(2, LoopGroupOptions{.pin_threads = true, .name = "pingpong"});
  for (auto _ : state) {
    ThreadSafeQueue<int> ping, pong;
    std::promise<void> done;
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
  }
  state.counters["seconds_per_round_trip"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * round_trips,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ThreadSafeQueuePingPong)
    ->ArgName("round_trips")
    ->Arg(10'000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_SpinningAtomicsPingPong(benchmark::State& state) {
  const int round_trips = static_cast<int>(state.range(0));
  std::vector<int> cpus = allowed_cpus();
  for (auto _ : state) {
    alignas(64) std::atomic<int> ping{-1};
    alignas(64) std::atomic<int> pong{-1};
    std::thread other([&] {
      pin_this_thread(cpus[1 % cpus.size()]);
      for (int i = 0; i < round_trips; ++i) {
        while (ping.load(std::memory_order_acquire) != i) {
        }
        pong.store(i, std::memory_order_release);
      }
    });
    pin_this_thread(cpus[0]);
    for (int i = 0; i < round_trips; ++i) {
      ping.store(i, std::memory_order_release);
      while (pong.load(std::memory_order_acquire) != i) {
      }
    }
    other.join();
  }
  state.counters["seconds_per_round_trip"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * round_trips,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SpinningAtomicsPingPong)
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

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
