// One producer, four consumers, 1M ints through a bounded Queue<int>(1024):
// the cost per item moved (put, get and the switches the bound causes).
//
// And the non-blocking calls, which never switch: put_nowait/get_nowait
// (Full/Empty exceptions) beside try_put/try_get (bool/std::optional), on a
// queue with room (the common case) and on a full or empty one (where the
// throwing pair pays for an exception per call).
#include <memory>
#include <optional>
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

constexpr int kBatch = 1024;

// A batch in, the batch out, per iteration: one put and one get per item.
void BM_PutNowaitGetNowait(benchmark::State& state) {
  Queue<int> queue(kBatch);
  int64_t checksum = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) queue.put_nowait(i);
    for (int i = 0; i < kBatch; ++i) checksum += queue.get_nowait();
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_PutNowaitGetNowait);

void BM_TryPutTryGet(benchmark::State& state) {
  Queue<int> queue(kBatch);
  int64_t checksum = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      if (!queue.try_put(i)) state.SkipWithError("try_put found the queue full");
    }
    for (int i = 0; i < kBatch; ++i) {
      std::optional<int> item = queue.try_get();
      if (!item) state.SkipWithError("try_get found the queue empty");
      checksum += *item;
    }
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_TryPutTryGet);

// The refusals: get on an empty queue, put on a full one.
void BM_GetNowaitEmptyPutNowaitFull(benchmark::State& state) {
  Queue<int> empty;
  Queue<int> full(1);
  full.put(0);
  int64_t refused = 0;
  for (auto _ : state) {
    try {
      empty.get_nowait();
    } catch (const Empty&) {
      ++refused;
    }
    try {
      full.put_nowait(1);
    } catch (const Full&) {
      ++refused;
    }
  }
  if (refused != 2 * static_cast<int64_t>(state.iterations())) state.SkipWithError("not refused");
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_GetNowaitEmptyPutNowaitFull);

void BM_TryGetEmptyTryPutFull(benchmark::State& state) {
  Queue<int> empty;
  Queue<int> full(1);
  full.put(0);
  int64_t refused = 0;
  for (auto _ : state) {
    if (!empty.try_get()) ++refused;
    if (!full.try_put(1)) ++refused;
  }
  if (refused != 2 * static_cast<int64_t>(state.iterations())) state.SkipWithError("not refused");
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_TryGetEmptyTryPutFull);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
