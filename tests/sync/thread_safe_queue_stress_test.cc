// Randomized stress: tasks on four loops and plain threads exchange items
// through one bounded ThreadSafeQueue while consumer tasks are killed and
// time out at random. Every item must be received exactly once.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "evergreen/loop/loop_group.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/sync/thread_safe_queue.h"
#include "gtest/gtest.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;

constexpr size_t kLoops = 4;
constexpr size_t kProducersPerLoop = 2;
constexpr size_t kConsumersPerLoop = 3;
constexpr size_t kConsumerThreads = 2;
// About a million items; a fifth of that under the sanitizers, which run
// this several times slower on a shared two-core machine.
#if defined(EVERGREEN_ASAN) || defined(EVERGREEN_TSAN) || defined(__SANITIZE_THREAD__) || \
    defined(__SANITIZE_ADDRESS__)
constexpr uint32_t kItemsPerProducer = 22'223;
#else
constexpr uint32_t kItemsPerProducer = 111'112;
#endif
// Loop producers, then one plain producer thread.
constexpr uint32_t kItems = (kLoops * kProducersPerLoop + 1) * kItemsPerProducer;

struct Shared {
  ThreadSafeQueue<uint32_t> queue{32};
  std::atomic<size_t> producers_left{kLoops * kProducersPerLoop + 1};
  std::mutex mutex;
  std::vector<uint32_t> received;  // merged under `mutex` when each side ends
  std::atomic<uint64_t> kills{0};
  std::atomic<uint64_t> timeouts{0};

  void producer_done() {
    if (--producers_left == 0) queue.close();
  }
  void merge(const std::vector<uint32_t>& mine) {
    std::lock_guard<std::mutex> lock(mutex);
    received.insert(received.end(), mine.begin(), mine.end());
  }
};

// Puts [first, first + kItemsPerProducer), sometimes with a short deadline
// (retrying what did not fit).
void produce(Shared& shared, uint32_t first, std::mt19937& random) {
  for (uint32_t id = first; id < first + kItemsPerProducer; ++id) {
    if (random() % 4 == 0) {
      while (!shared.queue.put_for(id, std::chrono::microseconds(random() % 300))) {
      }
    } else {
      shared.queue.put(id);
    }
  }
  shared.producer_done();
}

// Fills the stack below the caller with a pattern, so a wake-up record that
// outlived the get() call it belongs to (cross_thread_wake.h) is read as
// garbage by its loop rather than as the stale but plausible record.
__attribute__((noinline)) void overwrite_stack() {
  volatile unsigned char scratch[2048];
  std::memset(const_cast<unsigned char*>(scratch), 0xA5, sizeof scratch);
}

// One consumer task: records each item the moment get returns (no suspension
// point in between), so a kill can only come before or after a whole take.
void consume(Shared& shared, std::vector<uint32_t>& mine, std::mt19937& random) {
  try {
    for (;;) {
      overwrite_stack();
      switch (random() % 3) {
        case 0:
          mine.push_back(shared.queue.get());
          break;
        case 1:
          if (std::optional<uint32_t> id =
                  shared.queue.get_for(std::chrono::microseconds(random() % 200))) {
            mine.push_back(*id);
          }
          break;
        default:
          try {
            Timeout deadline(std::chrono::microseconds(random() % 200));
            mine.push_back(shared.queue.get());
          } catch (const Timeout&) {
            ++shared.timeouts;
          }
      }
    }
  } catch (const QueueClosed&) {
  }
}

// Runs on each loop: producers, consumers, and a killer that ends a random
// consumer every few hundred microseconds and starts a replacement, until
// the queue closes; then waits for its consumers to drain.
void run_loop(Shared& shared, size_t index, std::promise<void>& done) {
  std::mt19937 random(static_cast<uint32_t>(index) + 1);
  std::vector<uint32_t> mine;
  for (size_t p = 0; p < kProducersPerLoop; ++p) {
    uint32_t first = static_cast<uint32_t>(index * kProducersPerLoop + p) * kItemsPerProducer;
    spawn([&shared, first, seed = random()] {
      std::mt19937 own(seed);
      produce(shared, first, own);
    });
  }
  std::vector<std::shared_ptr<Task>> consumers;
  // Every consumer ever started, killed ones included: a kill is raised only
  // when the task next blocks, so a killed consumer may go on taking items
  // (into `mine`) for a while, and must end before `mine` goes away.
  std::vector<std::shared_ptr<Task>> started;
  auto start_consumer = [&] {
    started.push_back(spawn([&shared, &mine, seed = random()] {
      std::mt19937 own(seed);
      consume(shared, mine, own);
    }));
    return started.back();
  };
  for (size_t c = 0; c < kConsumersPerLoop; ++c) consumers.push_back(start_consumer());
  while (!shared.queue.closed()) {
    sleep(std::chrono::microseconds(100 + random() % 400));
    size_t victim = random() % consumers.size();
    consumers[victim]->kill();
    ++shared.kills;
    consumers[victim] = start_consumer();
  }
  for (auto& consumer : started) EXPECT_TRUE(consumer->join(60s));
  shared.merge(mine);
  done.set_value();
}

TEST(ThreadSafeQueueStressTest, EveryItemIsReceivedExactlyOnceDespiteKillsAndTimeouts) {
  Shared shared;
  std::vector<std::promise<void>> loops_done(kLoops);
  LoopGroup group(kLoops);
  group.post_each([&](size_t i) { run_loop(shared, i, loops_done[i]); });

  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    std::mt19937 random(99);
    produce(shared, kLoops * kProducersPerLoop * kItemsPerProducer, random);
  });
  for (size_t t = 0; t < kConsumerThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<uint32_t>(100 + t));
      std::vector<uint32_t> mine;
      try {
        for (;;) {
          if (random() % 2 == 0) {
            mine.push_back(shared.queue.get());
          } else if (auto id = shared.queue.get_for(std::chrono::microseconds(random() % 200))) {
            mine.push_back(*id);
          }
        }
      } catch (const QueueClosed&) {
      }
      shared.merge(mine);
    });
  }
  for (auto& done : loops_done) {
    auto future = done.get_future();
    if (future.wait_for(120s) != std::future_status::ready) {
      ADD_FAILURE() << "a loop did not finish: " << shared.producers_left.load()
                    << " producers left";
      std::abort();  // the group's tasks reference this frame
    }
  }
  for (auto& thread : threads) thread.join();
  group.stop();
  group.join();

  std::vector<uint8_t> count(kItems, 0);
  for (uint32_t id : shared.received) {
    ASSERT_LT(id, kItems);
    ++count[id];
  }
  size_t lost = 0, duplicated = 0;
  for (uint8_t c : count) {
    lost += c == 0;
    duplicated += c > 1;
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicated, 0u);
  EXPECT_EQ(shared.received.size(), kItems);
  EXPECT_GT(shared.kills.load(), 0u);
  std::printf("items %u, kills %llu, timeouts %llu\n", kItems,
              static_cast<unsigned long long>(shared.kills.load()),
              static_cast<unsigned long long>(shared.timeouts.load()));
}

}  // namespace
}  // namespace evergreen
