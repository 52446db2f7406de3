// Spawning and joining trivial tasks, 10,000 alive at a time: the cost of a
// task's whole life (allocation, stack from the pool, first switch, end, join).
#include <memory>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"

namespace evergreen {
namespace {

constexpr int kAliveAtOnce = 10000;

void BM_TaskSpawnJoin(benchmark::State& state) {
  std::vector<std::shared_ptr<Task>> tasks;
  tasks.reserve(kAliveAtOnce);
  int64_t counter = 0;
  for (auto _ : state) {
    for (int i = 0; i < kAliveAtOnce; ++i) tasks.push_back(spawn([&counter] { ++counter; }));
    for (auto& task : tasks) task->join();
    tasks.clear();
  }
  benchmark::DoNotOptimize(counter);
  state.SetItemsProcessed(state.iterations() * kAliveAtOnce);
  state.counters["seconds_per_task"] =
      bench::seconds_per(static_cast<double>(state.iterations()) * kAliveAtOnce);
  EventLoop::current().destroy();
}
BENCHMARK(BM_TaskSpawnJoin);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
