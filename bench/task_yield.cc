// Two tasks alternating with sleep(0s): the cost of one yield to the loop and
// back. The benchmark's own loop runs inside the first task; a partner task
// yields in between.
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

void BM_TaskYield(benchmark::State& state) {
  bool done = false;
  auto measured = spawn([&] {
    for (auto _ : state) sleep(0s);
    done = true;
  });
  auto partner = spawn([&done] {
    while (!done) sleep(0s);
  });
  measured->join();
  partner->join();
  state.counters["seconds_per_yield"] =
      bench::seconds_per(2.0 * static_cast<double>(state.iterations()));
  EventLoop::current().destroy();
}
BENCHMARK(BM_TaskYield);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
