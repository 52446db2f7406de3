// One producer, four consumers, 1M ints through a bounded Queue<int>(1024):
// the cost per item moved (put, get and the switches the bound causes).
#include <memory>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/queue.h"

namespace evergreen {
namespace {

constexpr int kItems = 1'000'000;
constexpr int kConsumers = 4;

void BM_QueueThroughput(benchmark::State& state) {
  int64_t checksum = 0;
  for (auto _ : state) {
    Queue<int> queue(1024);
    auto producer = spawn([&] {
      for (int i = 0; i < kItems; ++i) queue.put(i);
      for (int c = 0; c < kConsumers; ++c) queue.put(-1);  // one stop mark each
    });
    std::vector<std::shared_ptr<Task>> consumers;
    for (int c = 0; c < kConsumers; ++c) {
      consumers.push_back(spawn([&] {
        for (int item; (item = queue.get()) >= 0;) checksum += item;
      }));
    }
    producer->join();
    for (auto& consumer : consumers) consumer->join();
  }
  if (checksum != static_cast<int64_t>(state.iterations()) * kItems * (kItems - 1LL) / 2) {
    state.SkipWithError("items lost or duplicated");
  }
  state.SetItemsProcessed(state.iterations() * kItems);
  state.counters["seconds_per_item"] =
      bench::seconds_per(static_cast<double>(state.iterations()) * kItems);
  EventLoop::current().destroy();
}
BENCHMARK(BM_QueueThroughput)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
