// Many idle tasks: create N tasks that each block on one Event, then measure
// how long creating them (up to all being blocked) took and how much memory
// each costs while idle. N = 100,000 then 1,000,000 (the 1M case also checks
// that stacks fit under the default vm.max_map_count of 65,530 mappings).
// Compare with BM_BoostIdleFibers in sync_boost.cc (16 KiB stacks).
//
// BM_IdleTasks starts each iteration on a new loop (the previous one
// destroyed), but the stacks of the ended tasks stay in the thread's stack
// pool until the thread exits: only a process's first run meets fresh stacks,
// so its counters, means over however many iterations Google Benchmark runs,
// describe a warm process.
//
// BM_IdleTasksColdStart is the same workload exactly once, in a fresh
// process with no warm-up of any kind (the case of a server that starts, and
// the figure Go's equivalent in bench/run_go_compare.sh reports). It refuses
// to run (an error in the report) unless it is the first benchmark the
// process runs: run one argument per process, e.g.
// `idle_tasks --benchmark_filter='BM_IdleTasksColdStart/tasks:100000/'`.
//
// Counters:
//   create_ns_per_task        creation time per task: spawn() until every
//                             task is blocked in Event::wait()
//   rss_bytes_per_task        resident memory added per idle task
//   peak_rss_bytes_per_task   process peak RSS growth over the run per task
//   tasks                     tasks alive at once (the argument)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/event.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using bench::current_rss_bytes;

// Whether any benchmark has run in this process yet (BM_IdleTasksColdStart
// needs to be the first).
bool process_warmed = false;

void BM_IdleTasksColdStart(benchmark::State& state) {
  if (std::exchange(process_warmed, true)) {
    state.SkipWithError(
        "not a fresh process: run one argument alone, "
        "--benchmark_filter='BM_IdleTasksColdStart/tasks:N/'");
    return;
  }
  const int64_t count = state.range(0);
  double seconds = 0, rss_per_task = 0;
  for (auto _ : state) {  // once: Iterations(1)
    Event event;
    std::vector<std::shared_ptr<Task>> tasks;
    tasks.reserve(count);
    const int64_t rss_before = current_rss_bytes();
    auto start = std::chrono::steady_clock::now();
    int64_t blocked = 0;
    for (int64_t i = 0; i < count; ++i) {
      tasks.push_back(spawn([&event, &blocked] {
        ++blocked;
        event.wait();
      }));
    }
    // Until every task has run and blocked on the event. One turn is not
    // enough: beyond a batch, new tasks join the ready queue a batch per turn
    // (loop/internal/start_backlog.h).
    while (blocked < count) sleep(0s);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.SetIterationTime(seconds);
    rss_per_task =
        static_cast<double>(current_rss_bytes() - rss_before) / static_cast<double>(count);
    event.set();
    for (auto& task : tasks) task->join();
  }
  state.counters["create_ns_per_task"] = seconds * 1e9 / static_cast<double>(count);
  state.counters["rss_bytes_per_task"] = rss_per_task;
  state.counters["peak_rss_MiB"] = static_cast<double>(bench::peak_rss_bytes()) / (1 << 20);
  state.counters["tasks"] = static_cast<double>(count);
  EventLoop::current().destroy();
}
// Registered first, so that a run of the whole binary still finds the first
// of them first.
BENCHMARK(BM_IdleTasksColdStart)
    ->ArgName("tasks")
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_IdleTasks(benchmark::State& state) {
  process_warmed = true;
  const int64_t count = state.range(0);
  double rss_per_task = 0, peak_per_task = 0, create_seconds = 0;
  for (auto _ : state) {
    Event event;
    std::vector<std::shared_ptr<Task>> tasks;
    tasks.reserve(count);
    const int64_t rss_before = current_rss_bytes();
    const int64_t peak_before = bench::peak_rss_bytes();

    auto start = std::chrono::steady_clock::now();
    int64_t blocked = 0;
    for (int64_t i = 0; i < count; ++i) {
      tasks.push_back(spawn([&event, &blocked] {
        ++blocked;
        event.wait();
      }));
    }
    while (blocked < count) sleep(0s);  // every task has run and blocked
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.SetIterationTime(seconds);
    create_seconds += seconds;

    const int64_t rss_idle = current_rss_bytes();
    rss_per_task += static_cast<double>(rss_idle - rss_before) / static_cast<double>(count);
    // Peak growth: the process peak may predate this run (an earlier, larger
    // run), in which case it reads as the growth above that earlier peak.
    const int64_t peak_after = bench::peak_rss_bytes();
    peak_per_task += static_cast<double>(peak_after - std::min(peak_before, rss_before)) /
                     static_cast<double>(count);

    event.set();
    for (auto& task : tasks) task->join();
    tasks.clear();
    EventLoop::current().destroy();
  }
  const double runs = static_cast<double>(state.iterations());
  state.counters["create_ns_per_task"] = create_seconds * 1e9 / runs / static_cast<double>(count);
  state.counters["rss_bytes_per_task"] = rss_per_task / runs;
  state.counters["peak_rss_bytes_per_task"] = peak_per_task / runs;
  state.counters["tasks"] = static_cast<double>(count);
}
BENCHMARK(BM_IdleTasks)
    ->ArgName("tasks")
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
