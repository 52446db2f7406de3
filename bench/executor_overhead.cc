// What an executor adds to running a call in a task: submit + get of trivial
// calls through TaskPoolExecutor(100), beside spawn + join of the same calls
// in plain tasks, 10,000 in flight at a time (an iteration is one such round).
// Also the round trip of one call at a time, and a ThreadPoolExecutor hand-off.
#include <memory>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/futures/executor.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"

namespace evergreen {
namespace {

constexpr int kInFlight = 10000;

int64_t trivial(int64_t x) { return x + 1; }

// kInFlight trivial calls submitted, then all their results got; the
// argument is max_workers.
template <class ExecutorType>
void BM_SubmitGet(benchmark::State& state) {
  int64_t sum = 0;
  {
    ExecutorType executor(static_cast<size_t>(state.range(0)));
    std::vector<futures::Future<int64_t>> pending;
    pending.reserve(kInFlight);
    for (auto _ : state) {
      for (int i = 0; i < kInFlight; ++i) pending.push_back(executor.submit(trivial, i));
      for (auto& future : pending) sum += future.get();
      pending.clear();
    }
  }
  benchmark::DoNotOptimize(sum);
  state.counters["seconds_per_call"] =
      bench::seconds_per(static_cast<double>(state.iterations()) * kInFlight);
  EventLoop::current().destroy();
}
BENCHMARK_TEMPLATE(BM_SubmitGet, futures::TaskPoolExecutor)
    ->ArgName("max_workers")
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);

void BM_SpawnJoin(benchmark::State& state) {
  int64_t sum = 0;
  std::vector<std::shared_ptr<Task>> tasks;
  tasks.reserve(kInFlight);
  for (auto _ : state) {
    for (int i = 0; i < kInFlight; ++i) tasks.push_back(spawn([&sum, i] { sum += trivial(i); }));
    for (auto& task : tasks) task->join();
    tasks.clear();
  }
  benchmark::DoNotOptimize(sum);
  state.counters["seconds_per_call"] =
      bench::seconds_per(static_cast<double>(state.iterations()) * kInFlight);
  EventLoop::current().destroy();
}
BENCHMARK(BM_SpawnJoin)->Unit(benchmark::kMillisecond);

// One call at a time: the latency of a submit, a worker wake-up and a get.
void BM_TaskPoolRoundTrip(benchmark::State& state) {
  int64_t sum = 0;
  {
    futures::TaskPoolExecutor executor(100);
    for (auto _ : state) {
      for (int i = 0; i < kInFlight; ++i) sum += executor.submit(trivial, i).get();
    }
  }
  benchmark::DoNotOptimize(sum);
  state.counters["seconds_per_call"] =
      bench::seconds_per(static_cast<double>(state.iterations()) * kInFlight);
  EventLoop::current().destroy();
}
BENCHMARK(BM_TaskPoolRoundTrip)->Unit(benchmark::kMillisecond);

// Trivial calls through four OS threads and back via call_from_thread.
BENCHMARK_TEMPLATE(BM_SubmitGet, futures::ThreadPoolExecutor)
    ->ArgName("max_workers")
    ->Arg(4)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
