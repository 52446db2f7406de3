// BM_Timers' workload (100,000 tasks each sleeping a random 0-100 ms, joined)
// on a real clock and under testing::run_with_virtual_time(): the wall time
// of each. With the real clock the set cannot finish before 100 ms of
// sleeping; under virtual time the sleeps cost only the loop's work (spawn,
// timer heap, wake-ups), so wall_ms is the overhead of the whole machinery.
// BM_Timers' 0-100 ms spread is about as long as spawning and joining 100k
// tasks takes anyway, so the second pair spreads the sleeps over 0-10 s: the
// real clock then needs 10 s, the virtual one the same CPU work as before.
// Under virtual time each distinct deadline is one clock jump and one loop
// iteration (timers due at different times never fire in one batch, so that
// each woken task reads its own deadline from time()).
//
//   ./bazelw run --config=opt //bench:timers_virtual
#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/testing.h"

namespace evergreen {
namespace {

using Clock = std::chrono::steady_clock;

void sleep_all(const std::vector<std::chrono::microseconds>& delays) {
  std::vector<std::shared_ptr<Task>> tasks;
  tasks.reserve(delays.size());
  for (auto delay : delays) tasks.push_back(spawn([delay] { sleep(delay); }));
  for (auto& task : tasks) task->join();
}

void BM_TimersClock(benchmark::State& state) {
  const int task_count = static_cast<int>(state.range(0));
  const bool virtual_time = state.range(1) != 0;
  const int max_delay_ms = static_cast<int>(state.range(2));
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> delay_us(0, max_delay_ms * 1000);
  std::vector<std::chrono::microseconds> delays(static_cast<size_t>(task_count));
  double wall_ms = 0;
  for (auto _ : state) {
    for (auto& delay : delays) delay = std::chrono::microseconds(delay_us(random));
    auto start = Clock::now();
    if (virtual_time) {
      testing::run_with_virtual_time([&] { sleep_all(delays); });
    } else {
      {
        EventLoop loop;
        sleep_all(delays);
      }
    }
    wall_ms += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  }
  state.counters["wall_ms"] = wall_ms / static_cast<double>(state.iterations());
}
BENCHMARK(BM_TimersClock)
    ->ArgNames({"tasks", "virtual", "max_delay_ms"})
    ->Args({100'000, 0, 100})
    ->Args({100'000, 1, 100})
    ->Args({100'000, 0, 10'000})
    ->Args({100'000, 1, 10'000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
