// 100,000 tasks each sleeping a random 0-100 ms: how far past the ideal 100 ms
// the whole set finishes, and the memory it takes.
//
// BM_Timers measures a long-running server: an iteration is `rounds` rounds
// on one loop, destroyed at its end. Its stacks are not: they stay in the
// thread's stack pool (until the thread exits), so only the very first round
// in the process meets fresh stacks, and every later one, on a new loop or
// not, reuses pooled ones. The counters are means over the iterations:
// first_round_wall_ms (the first round on each new loop) and warm_wall_ms
// (the rest).
//
// BM_TimersColdStart is the first round alone, as a server that starts (or a
// burst after a long idle) sees it: one round, in a fresh process, with no
// warm-up of any kind, reporting the wall time from the first spawn to the
// last wake and the process's peak RSS. It refuses to run (an error in the
// report) unless it is the first benchmark the process runs: run it alone,
// `timers --benchmark_filter=BM_TimersColdStart`, once per process, as
// bench/run_go_compare.sh does beside Go's equivalent.
//
// A task's sleep starts when it first runs, so the wall time can't be less
// than the time until the last task has started plus 100 ms. Two more warm
// counters split that first part: spawn_ms (spawning all tasks) and
// first_run_ms (from then until the last task has begun its sleep). The cold
// round also reports spawn_ms and stacks_mapped, the most task stacks in use
// at once (what the peak RSS is mostly made of).
#include <chrono>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/fiber/fiber.h"
#include "evergreen/fiber/internal/thread_state.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"

namespace evergreen {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// Whether any benchmark has run in this process yet (BM_TimersColdStart
// needs to be the first).
bool process_warmed = false;

// 100k tasks sleeping a random 0-100 ms, once, on a fresh process.
void BM_TimersColdStart(benchmark::State& state) {
  if (std::exchange(process_warmed, true)) {
    state.SkipWithError("not a fresh process: run it alone, --benchmark_filter=BM_TimersColdStart");
    return;
  }
  const int task_count = static_cast<int>(state.range(0));
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> delay_us(0, 100'000);
  std::vector<std::chrono::microseconds> delays(static_cast<size_t>(task_count));
  for (auto& delay : delays) delay = std::chrono::microseconds(delay_us(random));
  double wall_ms = 0, spawn_ms = 0;
  for (auto _ : state) {  // once: Iterations(1)
    auto start = Clock::now();
    std::vector<std::shared_ptr<Task>> tasks;
    tasks.reserve(task_count);
    for (auto delay : delays) tasks.push_back(spawn([delay] { sleep(delay); }));
    spawn_ms = ms_between(start, Clock::now());
    for (auto& task : tasks) task->join();
    wall_ms = ms_between(start, Clock::now());
  }
  state.counters["cold_wall_ms"] = wall_ms;
  state.counters["spawn_ms"] = spawn_ms;
  // The most task stacks in use at once: the pool maps slabs as it runs out
  // and keeps them (internal, for explaining the peak RSS).
  const fiber_internal::StackPool* pool =
      fiber_internal::ThreadState::get().pools().find(default_stack_size());
  state.counters["stacks_mapped"] = pool != nullptr ? static_cast<double>(pool->capacity()) : 0;
  state.counters["peak_rss_MiB"] = static_cast<double>(bench::peak_rss_bytes()) / (1 << 20);
  EventLoop::current().destroy();
}
// Registered first, so that a run of the whole binary still finds it first.
BENCHMARK(BM_TimersColdStart)
    ->ArgName("tasks")
    ->Arg(100'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

void BM_Timers(benchmark::State& state) {
  process_warmed = true;
  const int task_count = static_cast<int>(state.range(0));
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> delay_us(0, 100'000);
  // Drawn before the clock starts, as bench/go_compare does: the random
  // numbers are the benchmark's input, not the library's work.
  std::vector<std::chrono::microseconds> delays(static_cast<size_t>(task_count));
  const int rounds = static_cast<int>(state.range(1));
  double wall_ms = 0, first_round_ms = 0, spawn_ms = 0, first_run_ms = 0;
  for (auto _ : state) {
    for (int round = 0; round < rounds; ++round) {
      // One pointer in each task's closure, which with the delay stays within
      // the 16 bytes a task stores without allocating.
      struct Progress {
        int count;
        int started = 0;
        Clock::time_point all_started{};
      } progress{task_count};
      for (auto& delay : delays) delay = std::chrono::microseconds(delay_us(random));
      auto start = Clock::now();
      std::vector<std::shared_ptr<Task>> tasks;
      tasks.reserve(task_count);
      for (auto delay : delays) {
        tasks.push_back(spawn([progress = &progress, delay] {
          if (++progress->started == progress->count) progress->all_started = Clock::now();
          sleep(delay);
        }));
      }
      auto spawned = Clock::now();
      for (auto& task : tasks) task->join();
      double round_ms = ms_between(start, Clock::now());
      if (round == 0) {
        first_round_ms += round_ms;
      } else {
        wall_ms += round_ms;
        spawn_ms += ms_between(start, spawned);
        first_run_ms += ms_between(spawned, progress.all_started);
      }
    }
    // A new loop for the next iteration (the thread keeps its pooled stacks).
    EventLoop::current().destroy();
  }
  const double iterations = static_cast<double>(state.iterations());
  const double warm_rounds = iterations * (rounds - 1);
  auto warm_mean = [&](double total) { return warm_rounds > 0 ? total / warm_rounds : 0; };
  state.counters["first_round_wall_ms"] = first_round_ms / iterations;
  state.counters["warm_wall_ms"] = warm_mean(wall_ms);
  state.counters["spawn_ms"] = warm_mean(spawn_ms);
  state.counters["first_run_ms"] = warm_mean(first_run_ms);
  state.counters["peak_rss_MiB"] = static_cast<double>(bench::peak_rss_bytes()) / (1 << 20);
}
BENCHMARK(BM_Timers)
    ->ArgNames({"tasks", "rounds"})
    ->Args({100'000, 4})
    ->Unit(benchmark::kMillisecond);

// The other bound on BM_Timers. The loop starts all of its tasks in one pass
// before it fires any timer, and then wakes them one at a time (fires the
// timer, resumes the task, ends it), so its wall time is also at least the
// time until the last task has started plus the loop's time to wake them all.
// Here every task's deadline falls within one millisecond, well after all of
// them have started, so the loop fires and resumes them as fast as it can:
// ns_per_wake is that loop time per task (wake_ms includes the millisecond
// of spread). Above 1000 ns, 100k wake-ups take longer than BM_Timers' 100 ms.
void BM_TimerWakes(benchmark::State& state) {
  process_warmed = true;
  const int task_count = static_cast<int>(state.range(0));
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> offset_ns(0, 999'999);
  // Past the time the second pass over every task takes, even in the first
  // round (over 100 ms there on this VM; warm rounds take about 50).
  static constexpr auto kLead = std::chrono::milliseconds(300);
  double wake_ms = 0;
  for (auto _ : state) {
    struct Progress {
      int count;
      int started = 0;
      int late = 0;  // reached their sleep after its deadline
      Clock::time_point wake_from{};
    } progress{task_count};
    std::vector<std::shared_ptr<Task>> tasks;
    tasks.reserve(task_count);
    for (int i = 0; i < task_count; ++i) {
      auto offset = std::chrono::nanoseconds(offset_ns(random));
      tasks.push_back(spawn([progress = &progress, offset] {
        // The first pass only counts: the last task to start sets when the
        // wake-ups begin, so that no deadline has passed before then.
        if (++progress->started == progress->count) progress->wake_from = Clock::now() + kLead;
        sleep(Duration::zero());
        const Duration wait = progress->wake_from + offset - Clock::now();
        if (wait <= Duration::zero()) ++progress->late;
        sleep(wait);
      }));
    }
    for (auto& task : tasks) task->join();
    wake_ms += ms_between(progress.wake_from, Clock::now());
    if (progress.late > 0) {
      state.SkipWithError("tasks reached their sleep after the wake-ups began: raise kLead");
      break;
    }
  }
  EventLoop::current().destroy();
  if (state.error_occurred()) return;
  state.counters["wake_ms"] = wake_ms / static_cast<double>(state.iterations());
  state.counters["ns_per_wake"] =
      wake_ms * 1e6 / (static_cast<double>(state.iterations()) * task_count);
}
BENCHMARK(BM_TimerWakes)->ArgName("tasks")->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
