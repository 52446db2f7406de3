// Queue, LifoQueue, PriorityQueue: ordering, bounds, Empty/Full, blocking
// with timeouts, FIFO hand-off to blocked getters and putters, move-only
// items, task_done/join, kill and Timeout while blocked, and the races.
#include "evergreen/sync/queue.h"

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/sync/event.h"
#include "gtest/gtest.h"
#include "sync_test_support.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using QueueTest = testing::SyncTest;

static_assert(std::is_base_of_v<std::runtime_error, Empty>);
static_assert(std::is_base_of_v<std::runtime_error, Full>);

TEST_F(QueueTest, FifoOrder) {
  Queue<int> queue;
  for (int i = 0; i < 5; ++i) queue.put(i);
  EXPECT_EQ(queue.qsize(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(queue.get(), i);
  EXPECT_TRUE(queue.empty());
}

TEST_F(QueueTest, LifoOrder) {
  LifoQueue<int> queue;
  for (int i = 0; i < 5; ++i) queue.put(i);
  for (int i = 4; i >= 0; --i) EXPECT_EQ(queue.get(), i);
}

TEST_F(QueueTest, PriorityOrderLowestFirst) {
  PriorityQueue<std::pair<int, std::string>> queue;
  queue.put({3, "c"});
  queue.put({1, "a"});
  queue.put({5, "e"});
  queue.put({2, "b"});
  queue.put({4, "d"});
  std::string order;
  while (!queue.empty()) order += queue.get().second;
  EXPECT_EQ(order, "abcde");

  PriorityQueue<int, std::greater<int>> highest_first;
  for (int value : {2, 9, 4}) highest_first.put(value);
  EXPECT_EQ(highest_first.get(), 9);
  EXPECT_EQ(highest_first.get(), 4);
  EXPECT_EQ(highest_first.get(), 2);
}

TEST_F(QueueTest, MoveOnlyItemsInEveryKindOfQueue) {
  Queue<std::unique_ptr<int>> fifo;
  LifoQueue<std::unique_ptr<int>> lifo;
  auto by_value = [](const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) {
    return *a < *b;
  };
  PriorityQueue<std::unique_ptr<int>, decltype(by_value)> priority(0, by_value);
  for (int i : {2, 1, 3}) {
    fifo.put(std::make_unique<int>(i));
    lifo.put_nowait(std::make_unique<int>(i));
    priority.put(std::make_unique<int>(i));
  }
  EXPECT_EQ(*fifo.get(), 2);
  EXPECT_EQ(*lifo.get_nowait(), 3);
  EXPECT_EQ(*priority.get(), 1);
  EXPECT_EQ(*priority.get(), 2);
  // Through a blocked getter and a blocked putter too.
  Queue<std::unique_ptr<int>> bounded(1);
  auto getter = spawn([&] { EXPECT_EQ(*bounded.get(), 10); });
  yield_rounds();
  bounded.put(std::make_unique<int>(10));
  ASSERT_TRUE(getter->join(5s));
  bounded.put(std::make_unique<int>(11));
  auto putter = spawn([&] { bounded.put(std::make_unique<int>(12)); });
  yield_rounds();
  EXPECT_EQ(*bounded.get(), 11);
  EXPECT_EQ(*bounded.get(), 12);
  ASSERT_TRUE(putter->join(5s));
}

TEST_F(QueueTest, BoundsAndNonBlockingCalls) {
  Queue<int> queue(2);
  EXPECT_EQ(queue.maxsize(), 2u);
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.full());
  EXPECT_THROW(queue.get_nowait(), Empty);
  EXPECT_THROW(queue.get(false), Empty);
  queue.put_nowait(1);
  queue.put(2, false);
  EXPECT_TRUE(queue.full());
  EXPECT_THROW(queue.put_nowait(3), Full);
  EXPECT_THROW(queue.put(3, false, 1s), Full);  // timeout ignored when not blocking
  EXPECT_EQ(queue.qsize(), 2u);
  EXPECT_EQ(queue.get_nowait(), 1);
  EXPECT_FALSE(queue.full());
  Queue<int> unbounded;
  for (int i = 0; i < 10000; ++i) unbounded.put_nowait(i);
  EXPECT_FALSE(unbounded.full());
}

TEST_F(QueueTest, BlockingCallsTimeOutWithEmptyAndFull) {
  Queue<int> queue(1);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(queue.get(true, 20ms), Empty);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  queue.put(1);
  EXPECT_THROW(queue.put(2, true, 10ms), Full);
  EXPECT_THROW(queue.put(2, true, 0s), Full);
  EXPECT_EQ(queue.qsize(), 1u);
  EXPECT_EQ(queue.unfinished_tasks(), 1u);
}

TEST_F(QueueTest, BlockedGettersAreServedInOrderAndNewcomersCannotBarge) {
  Queue<int> queue;
  std::vector<int> got(3, -1);
  std::vector<std::shared_ptr<Task>> getters;
  for (int i = 0; i < 3; ++i) getters.push_back(spawn([&, i] { got[i] = queue.get(); }));
  yield_rounds();
  queue.put(10);
  // Handed to getter 0 already: a newcomer finds nothing.
  EXPECT_THROW(queue.get_nowait(), Empty);
  queue.put(11);
  queue.put(12);
  for (auto& getter : getters) ASSERT_TRUE(getter->join(5s));
  EXPECT_EQ(got, (std::vector<int>{10, 11, 12}));
}

TEST_F(QueueTest, BlockedPuttersAreServedInOrderAndNewcomersCannotBarge) {
  Queue<int> queue(1);
  queue.put(0);
  std::vector<std::shared_ptr<Task>> putters;
  for (int i = 1; i <= 3; ++i) putters.push_back(spawn([&, i] { queue.put(i); }));
  yield_rounds();
  EXPECT_EQ(queue.get(), 0);
  // The freed slot went to putter 1's item at once.
  EXPECT_TRUE(queue.full());
  EXPECT_THROW(queue.put_nowait(99), Full);
  EXPECT_EQ(queue.get(), 1);
  EXPECT_EQ(queue.get(), 2);
  EXPECT_EQ(queue.get(), 3);
  for (auto& putter : putters) ASSERT_TRUE(putter->join(5s));
  EXPECT_TRUE(queue.empty());
}

TEST_F(QueueTest, MainContextBlocksOnGetAndPut) {
  Queue<int> queue(1);
  spawn([&] {
    sleep(1ms);
    queue.put(1);
    queue.put(2);  // 1 went straight to the waiting main context
  });
  EXPECT_EQ(queue.get(true, 5s), 1);
  EXPECT_EQ(queue.get(true, 5s), 2);
  queue.put(3);
  spawn([&] { EXPECT_EQ(queue.get(), 3); });
  queue.put(4, true, 5s);  // blocks until the task made room
  EXPECT_EQ(queue.get_nowait(), 4);
}

TEST_F(QueueTest, TaskDoneTooOftenIsInvalid) {
  Queue<int> queue;
  queue.put(1);
  queue.get();
  queue.task_done();
  try {
    queue.task_done();
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("task_done() called more times"), std::string::npos)
        << error.what();
  }
}

TEST_F(QueueTest, JoinWaitsUntilEveryItemIsDone) {
  Queue<int> queue;
  EXPECT_TRUE(queue.join());  // nothing put yet
  for (int i = 0; i < 3; ++i) queue.put(i);
  EXPECT_FALSE(queue.join(10ms));
  int processed = 0;
  auto worker = spawn([&] {
    for (int i = 0; i < 3; ++i) {
      queue.get();
      sleep(1ms);
      ++processed;
      queue.task_done();
    }
  });
  EXPECT_TRUE(queue.join(5s));
  EXPECT_EQ(processed, 3);
  ASSERT_TRUE(worker->join(5s));
}

// The seed's example: worker tasks drain a queue; join() returns once every
// item was processed. 10 workers, 10,000 items.
TEST_F(QueueTest, SeedWorkerExampleWithTenWorkersAndTenThousandItems) {
  constexpr int kWorkers = 10, kItems = 10000;
  Queue<int> queue;
  std::vector<int> done_count(kItems, 0);
  std::vector<int> per_worker(kWorkers, 0);
  std::vector<std::shared_ptr<Task>> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.push_back(spawn([&, w] {
      for (;;) {
        int item = queue.get();
        ++done_count[item];  // do_work
        ++per_worker[w];
        if (item % 97 == 0) sleep(0s);
        queue.task_done();
      }
    }));
  }
  for (int item = 0; item < kItems; ++item) {
    queue.put(item);
    if (item % 1000 == 0) sleep(0s);
  }
  EXPECT_TRUE(queue.join(20s));
  for (int item = 0; item < kItems; ++item) ASSERT_EQ(done_count[item], 1) << "item " << item;
  for (int w = 0; w < kWorkers; ++w) EXPECT_GT(per_worker[w], 0) << "worker " << w << " idle";
  for (auto& worker : workers) kill_and_join(worker);
}

TEST_F(QueueTest, KilledGetterTakesNothingAndLeavesTheQueue) {
  Queue<int> queue;
  auto victim = spawn([&] { queue.get(); });
  yield_rounds();
  victim->kill();
  ASSERT_TRUE(victim->join(5s));
  queue.put(1);  // must stay in the queue, not go to the dead task
  EXPECT_EQ(queue.qsize(), 1u);
  EXPECT_EQ(queue.get_nowait(), 1);
}

TEST_F(QueueTest, KilledPutterAddsNothingAndLeavesTheQueue) {
  Queue<int> queue(1);
  queue.put(1);
  auto victim = spawn([&] { queue.put(2); });
  yield_rounds();
  victim->kill();
  ASSERT_TRUE(victim->join(5s));
  EXPECT_EQ(queue.get(), 1);
  EXPECT_TRUE(queue.empty());  // 2 was never added
  EXPECT_EQ(queue.unfinished_tasks(), 1u);
}

TEST_F(QueueTest, ItemHandedToAGetterKilledInTheSameTurnIsNotLost) {
  Queue<int> queue;
  Event never;
  std::optional<int> got;
  auto getter = spawn([&] {
    got = queue.get();
    never.wait();
  });
  yield_rounds();
  getter->kill();
  queue.put(5);
  ASSERT_TRUE(getter->join(5s));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, 5);
  EXPECT_TRUE(queue.empty());
}

TEST_F(QueueTest, TimeoutWhileBlockedPropagates) {
  Queue<int> queue;
  EXPECT_THROW(
      {
        Timeout deadline(10ms);
        queue.get();
      },
      Timeout);
  queue.put(1);
  EXPECT_EQ(queue.qsize(), 1u);
}

// The getter's timeout and a put from a loop callback fall due in the same
// loop turn, in either order: the item ends up in exactly one place.
TEST_F(QueueTest, PutBeforeTimeoutInTheSameTurnDeliversTheItem) {
  Queue<int> queue;
  std::optional<int> got;
  bool empty_thrown = false;
  auto getter = spawn([&] {
    try {
      got = queue.get(true, 5ms);
    } catch (const Empty&) {
      empty_thrown = true;
    }
  });
  yield_rounds(1);
  EventLoop::current().call_later(1ms, [&] { queue.put_nowait(7); });
  stall_thread(20ms);
  ASSERT_TRUE(getter->join(5s));
  EXPECT_FALSE(empty_thrown);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, 7);
  EXPECT_TRUE(queue.empty());
}

TEST_F(QueueTest, TimeoutBeforePutInTheSameTurnKeepsTheItemQueued) {
  Queue<int> queue;
  std::optional<int> got;
  bool empty_thrown = false;
  auto getter = spawn([&] {
    try {
      got = queue.get(true, 1ms);
    } catch (const Empty&) {
      empty_thrown = true;
    }
  });
  yield_rounds(1);
  EventLoop::current().call_later(5ms, [&] { queue.put_nowait(7); });
  stall_thread(20ms);
  ASSERT_TRUE(getter->join(5s));
  EXPECT_TRUE(empty_thrown);
  EXPECT_FALSE(got.has_value());
  yield_rounds();
  EXPECT_EQ(queue.qsize(), 1u);
}

TEST_F(QueueTest, NonBlockingCallsWorkInLoopCallbacks) {
  Queue<int> queue(1);
  Event done;
  bool full_thrown = false;
  EventLoop::current().call_soon([&] {
    queue.put_nowait(1);
    try {
      queue.put_nowait(2);
    } catch (const Full&) {
      full_thrown = true;
    }
    done.set();
  });
  EXPECT_TRUE(done.wait(5s));
  EXPECT_TRUE(full_thrown);
  EXPECT_EQ(queue.get_nowait(), 1);
}

}  // namespace
}  // namespace evergreen
