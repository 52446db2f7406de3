// 100,000 tasks each sleeping a random 0-100 ms: how far past the ideal 100 ms
// the whole set finishes, and the memory it takes.
//
// The first round runs on fresh stacks: 100k tasks alive at once need 100k
// stack pages never touched before, and on a VM each first touch costs a
// hypervisor fault (tens of microseconds) that no allocator can avoid. Later
// rounds reuse the pooled stacks, as a long-running server does. The counters
// report both: cold_wall_ms (first round) and warm_wall_ms (mean of the rest).
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
  double wall_ms = 0, cold_ms = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<Task>> tasks;
    tasks.reserve(task_count);
    for (int i = 0; i < task_count; ++i) {
      auto delay = std::chrono::microseconds(delay_us(random));
      tasks.push_back(spawn([delay] { sleep(delay); }));
    }
    for (auto& task : tasks) task->join();
    double round_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (cold_ms == 0) {
      cold_ms = round_ms;
    } else {
      wall_ms += round_ms;
    }
    EventLoop::current().destroy();
  }
  double warm_rounds = static_cast<double>(state.iterations()) - 1;
  state.counters["cold_wall_ms"] = cold_ms;
  state.counters["warm_wall_ms"] = warm_rounds > 0 ? wall_ms / warm_rounds : 0;
  state.counters["peak_rss_MB"] = static_cast<double>(bench::peak_rss_bytes()) / (1 << 20);
}
BENCHMARK(BM_Timers)->Arg(100'000)->Iterations(4)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
