// 100,000 tasks each sleeping a random 0-100 ms: how far past the ideal 100 ms
// the whole set finishes, and the memory it takes.
#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"

namespace evergreen {
namespace {

void BM_Timers(benchmark::State& state) {
  const int task_count = static_cast<int>(state.range(0));
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> delay_us(0, 100'000);
  double wall_ms = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<Task>> tasks;
    tasks.reserve(task_count);
    for (int i = 0; i < task_count; ++i) {
      auto delay = std::chrono::microseconds(delay_us(random));
      tasks.push_back(spawn([delay] { sleep(delay); }));
    }
    for (auto& task : tasks) task->join();
    wall_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                   .count();
    EventLoop::current().destroy();
  }
  state.counters["wall_ms"] = wall_ms / static_cast<double>(state.iterations());
  state.counters["over_ideal_ms"] = wall_ms / static_cast<double>(state.iterations()) - 100.0;
  state.counters["peak_rss_MB"] = static_cast<double>(bench::peak_rss_bytes()) / (1 << 20);
}
BENCHMARK(BM_Timers)->Arg(100'000)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
