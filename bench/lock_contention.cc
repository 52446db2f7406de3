// 100 tasks increment a shared counter under one Lock, yielding to the loop
// (sleep(0s)) inside the critical section, so every acquire but the first
// blocks and is served by a FIFO hand-off: the cost per acquire.
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/locks.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

constexpr int kTasks = 100;
constexpr int kIncrementsPerTask = 2'000;

void BM_LockContention(benchmark::State& state) {
  int64_t counter = 0;
  for (auto _ : state) {
    Lock lock;
    std::vector<std::shared_ptr<Task>> tasks;
    tasks.reserve(kTasks);
    for (int t = 0; t < kTasks; ++t) {
      tasks.push_back(spawn([&] {
        for (int i = 0; i < kIncrementsPerTask; ++i) {
          std::lock_guard<Lock> hold(lock);
          int64_t seen = counter;
          sleep(0s);
          counter = seen + 1;
        }
      }));
    }
    for (auto& task : tasks) task->join();
  }
  if (counter != static_cast<int64_t>(state.iterations()) * kTasks * kIncrementsPerTask) {
    state.SkipWithError("lost increments: the lock did not exclude");
  }
  state.counters["seconds_per_acquire"] =
      bench::seconds_per(static_cast<double>(state.iterations()) * kTasks * kIncrementsPerTask);
  EventLoop::current().destroy();
}
BENCHMARK(BM_LockContention)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
