// Randomized stress (fixed seeds): producers, consumers, timeouts and kills
// racing on a bounded Queue, a Channel and a Semaphore. Whatever the
// interleaving, no item may be lost or duplicated and no permit leaked.
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/sync/channel.h"
#include "evergreen/sync/locks.h"
#include "evergreen/sync/queue.h"
#include "gtest/gtest.h"
#include "sync_test_support.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using StressTest = testing::SyncTest;

// Random choices shared by every task (one thread: no locking needed).
class Dice {
 public:
  explicit Dice(uint32_t seed) : engine_(seed) {}
  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(engine_); }
  bool chance(int percent) { return below(100) < percent; }
  // None (wait forever), zero, or a few hundred microseconds to 3 ms.
  std::optional<Duration> timeout() {
    switch (below(4)) {
      case 0:
        return std::nullopt;
      case 1:
        return 0s;
      default:
        return std::chrono::microseconds(100 + below(2900));
    }
  }
  void maybe_yield() {
    if (chance(30)) sleep(0s);
    if (chance(5)) sleep(std::chrono::microseconds(below(500)));
  }

 private:
  std::mt19937 engine_;
};

// Keeps `count` tasks of one role alive: kill_one() kills a random one and
// starts a replacement.
class Crew {
 public:
  Crew(int count, std::function<void()> body) : body_(std::move(body)) {
    for (int i = 0; i < count; ++i) tasks_.push_back(spawn(body_));
  }
  void kill_one(Dice& dice) {
    auto& victim = tasks_[dice.below(static_cast<int>(tasks_.size()))];
    victim->kill();
    retired_.push_back(victim);
    victim = spawn(body_);
    ++kills_;
  }
  int kills() const { return kills_; }
  void kill_all_and_join() {
    for (auto& task : tasks_) task->kill();
    for (auto& task : tasks_) EXPECT_TRUE(task->join(10s));
    for (auto& task : retired_) EXPECT_TRUE(task->join(10s));
  }

 private:
  std::function<void()> body_;
  std::vector<std::shared_ptr<Task>> tasks_;
  std::vector<std::shared_ptr<Task>> retired_;
  int kills_ = 0;
};

TEST_F(StressTest, QueueLosesAndDuplicatesNothingUnderTimeoutsAndKills) {
  Dice dice(20240601);
  Queue<int> queue(8);
  constexpr int kMaxItems = 20000;
  std::vector<int> produced(kMaxItems, 0), consumed(kMaxItems, 0);
  int next_id = 0, put_failures = 0, get_failures = 0;
  bool producing = true;

  Crew producers(6, [&] {
    while (producing && next_id < kMaxItems) {
      int id = next_id++;
      try {
        if (dice.chance(20)) {
          Timeout deadline(dice.timeout());
          queue.put(id);
        } else {
          queue.put(id, !dice.chance(10), dice.timeout());
        }
        ++produced[id];  // put() returned: the item is in
      } catch (const Full&) {
        ++put_failures;
      } catch (const Timeout&) {
        ++put_failures;
      }
      dice.maybe_yield();
    }
  });
  Crew consumers(6, [&] {
    for (;;) {
      try {
        int id;
        if (dice.chance(20)) {
          Timeout deadline(dice.timeout());
          id = queue.get();
        } else {
          id = queue.get(!dice.chance(10), dice.timeout());
        }
        ++consumed[id];  // no suspension between get() and this
        queue.task_done();
      } catch (const Empty&) {
        ++get_failures;
      } catch (const Timeout&) {
        ++get_failures;
      }
      dice.maybe_yield();
    }
  });

  for (int round = 0; round < 300 && next_id < kMaxItems; ++round) {
    sleep(std::chrono::microseconds(dice.below(1000)));
    if (dice.chance(50)) producers.kill_one(dice);
    if (dice.chance(50)) consumers.kill_one(dice);
  }
  producing = false;
  producers.kill_all_and_join();
  // Consumers drain what is left, then go.
  for (int i = 0; i < 1000 && !queue.empty(); ++i) sleep(1ms);
  consumers.kill_all_and_join();
  while (!queue.empty()) {
    ++consumed[queue.get_nowait()];
    queue.task_done();
  }

  int total = 0;
  for (int id = 0; id < kMaxItems; ++id) {
    ASSERT_LE(produced[id], 1) << "id " << id;
    ASSERT_EQ(consumed[id], produced[id])
        << "id " << id << (consumed[id] ? " duplicated" : " lost");
    total += produced[id];
  }
  RecordProperty("items", total);
  RecordProperty("kills", producers.kills() + consumers.kills());
  RecordProperty("put_failures", put_failures);
  RecordProperty("get_failures", get_failures);
  EXPECT_GT(total, 1000) << "the stress test moved too few items to mean anything";
  EXPECT_GT(put_failures, 0);
  EXPECT_GT(get_failures, 0);
  EXPECT_EQ(queue.unfinished_tasks(), 0u);
}

TEST_F(StressTest, ChannelDeliversEachSentValueExactlyOnce) {
  Dice dice(7);
  Channel<std::unique_ptr<int>> channel;
  constexpr int kMaxItems = 20000;
  std::vector<int> sent(kMaxItems, 0), received(kMaxItems, 0);
  int next_id = 0;
  bool sending = true;

  Crew senders(5, [&] {
    while (sending && next_id < kMaxItems) {
      int id = next_id++;
      try {
        Timeout deadline(dice.timeout());
        channel.send(std::make_unique<int>(id));
        ++sent[id];
      } catch (const Timeout&) {
      }
      dice.maybe_yield();
    }
  });
  Crew receivers(5, [&] {
    for (;;) {
      try {
        Timeout deadline(dice.timeout());
        std::unique_ptr<int> value = channel.receive();
        ++received[*value];
      } catch (const Timeout&) {
      }
      dice.maybe_yield();
    }
  });

  for (int round = 0; round < 300 && next_id < kMaxItems; ++round) {
    sleep(std::chrono::microseconds(dice.below(1000)));
    if (dice.chance(50)) senders.kill_one(dice);
    if (dice.chance(50)) receivers.kill_one(dice);
  }
  sending = false;
  senders.kill_all_and_join();
  receivers.kill_all_and_join();

  int total = 0;
  for (int id = 0; id < kMaxItems; ++id) {
    ASSERT_LE(sent[id], 1) << "id " << id;
    ASSERT_EQ(received[id], sent[id]) << "id " << id;
    total += sent[id];
  }
  RecordProperty("items", total);
  RecordProperty("kills", senders.kills() + receivers.kills());
  EXPECT_GT(total, 1000);
}

TEST_F(StressTest, SemaphoreNeverOverAdmitsAndLeaksNoPermit) {
  Dice dice(99);
  constexpr int kPermits = 3;
  Semaphore semaphore(kPermits);
  int holders = 0, max_holders = 0, entries = 0;

  Crew workers(12, [&] {
    for (;;) {
      bool got;
      try {
        Timeout deadline(dice.chance(30) ? dice.timeout() : std::nullopt);
        got = semaphore.acquire(!dice.chance(10), dice.timeout());
      } catch (const Timeout&) {
        got = false;
      }
      if (got) {
        std::lock_guard<Semaphore> release_on_exit(semaphore, std::adopt_lock);
        max_holders = std::max(max_holders, ++holders);
        ++entries;
        struct Leave {
          ~Leave() { --*holders; }
          int* holders;
        } leave{&holders};
        dice.maybe_yield();
      } else {
        dice.maybe_yield();
      }
    }
  });
  for (int round = 0; round < 300; ++round) {
    sleep(std::chrono::microseconds(dice.below(1000)));
    if (dice.chance(60)) workers.kill_one(dice);
  }
  workers.kill_all_and_join();
  EXPECT_EQ(holders, 0);
  EXPECT_LE(max_holders, kPermits);
  EXPECT_EQ(semaphore.value(), kPermits);
  RecordProperty("entries", entries);
  RecordProperty("kills", workers.kills());
  EXPECT_GT(entries, 100);
}

}  // namespace
}  // namespace evergreen
