// Queue, LifoQueue, PriorityQueue: close() and iteration. After close() puts
// throw QueueClosed, gets drain what is left then throw it, blocked getters
// and putters are woken with it, and `for (T item : queue)` ends.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/queue.h"
#include "evergreen/sync/queue_closed.h"
#include "gtest/gtest.h"
#include "sync_test_support.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using QueueCloseTest = testing::SyncTest;

static_assert(std::is_base_of_v<std::runtime_error, QueueClosed>);
static_assert(std::input_iterator<Queue<int>::Iterator>);

TEST_F(QueueCloseTest, PutAfterCloseThrowsQueueClosed) {
  Queue<int> queue;
  EXPECT_FALSE(queue.closed());
  queue.close();
  EXPECT_TRUE(queue.closed());
  EXPECT_THROW(queue.put(1), QueueClosed);
  EXPECT_THROW(queue.put_nowait(1), QueueClosed);
  EXPECT_EQ(queue.qsize(), 0u);
  queue.close();  // again: nothing
}

TEST_F(QueueCloseTest, GetReturnsWhatIsLeftInOrderThenThrowsQueueClosed) {
  Queue<int> fifo;
  LifoQueue<int> lifo;
  PriorityQueue<int> priority;
  for (int i : {2, 1, 3}) {
    fifo.put(i);
    lifo.put(i);
    priority.put(i);
  }
  fifo.close();
  lifo.close();
  priority.close();
  EXPECT_EQ(fifo.get(), 2);
  EXPECT_EQ(fifo.get_nowait(), 1);
  EXPECT_EQ(fifo.get(), 3);
  EXPECT_THROW(fifo.get(), QueueClosed);
  EXPECT_THROW(fifo.get_nowait(), QueueClosed);
  EXPECT_EQ(lifo.get(), 3);
  EXPECT_EQ(lifo.get(), 1);
  EXPECT_EQ(lifo.get(), 2);
  EXPECT_THROW(lifo.get(), QueueClosed);
  EXPECT_EQ(priority.get(), 1);
  EXPECT_EQ(priority.get(), 2);
  EXPECT_EQ(priority.get(), 3);
  EXPECT_THROW(priority.get(true, 1s), QueueClosed);
}

TEST_F(QueueCloseTest, BlockedGetterWokenByCloseGetsQueueClosed) {
  Queue<int> queue;
  std::vector<std::string> outcome(2);
  std::vector<std::shared_ptr<Task>> getters;
  for (int i = 0; i < 2; ++i) {
    getters.push_back(spawn([&, i] {
      try {
        outcome[i] = std::to_string(queue.get());
      } catch (const QueueClosed&) {
        outcome[i] = "closed";
      }
    }));
  }
  yield_rounds();
  queue.put(7);  // straight to the first getter
  queue.close();
  for (auto& getter : getters) ASSERT_TRUE(getter->join(5s));
  EXPECT_EQ(outcome, (std::vector<std::string>{"7", "closed"}));
}

TEST_F(QueueCloseTest, BlockedPutterWokenByCloseGetsQueueClosedAndItsItemIsNotAdded) {
  Queue<int> queue(1);
  queue.put(1);
  bool closed_thrown = false;
  auto putter = spawn([&] {
    try {
      queue.put(2);
    } catch (const QueueClosed&) {
      closed_thrown = true;
    }
  });
  yield_rounds();
  queue.close();
  ASSERT_TRUE(putter->join(5s));
  EXPECT_TRUE(closed_thrown);
  EXPECT_EQ(queue.qsize(), 1u);
  EXPECT_EQ(queue.get(), 1);
  EXPECT_THROW(queue.get(), QueueClosed);
}

TEST_F(QueueCloseTest, PutterServedBeforeCloseKeepsItsItemQueued) {
  Queue<int> queue(1);
  queue.put(1);
  bool returned = false;
  auto putter = spawn([&] {
    queue.put(2);
    returned = true;
  });
  yield_rounds();
  EXPECT_EQ(queue.get(), 1);  // moves the putter's item in
  queue.close();              // same loop turn
  ASSERT_TRUE(putter->join(5s));
  EXPECT_TRUE(returned);
  EXPECT_EQ(queue.get(), 2);
  EXPECT_THROW(queue.get(), QueueClosed);
}

TEST_F(QueueCloseTest, RangeForConsumerTaskEndsAfterCloseWhenTheQueueIsDrained) {
  Queue<std::unique_ptr<int>> queue(2);
  std::vector<int> consumed;
  auto consumer = spawn([&] {
    for (std::unique_ptr<int> item : queue) consumed.push_back(*item);
  });
  for (int i = 0; i < 5; ++i) queue.put(std::make_unique<int>(i));
  queue.close();
  ASSERT_TRUE(consumer->join(5s));
  EXPECT_EQ(consumed, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(queue.empty());
}

TEST_F(QueueCloseTest, RangeForOverAClosedQueueTakesWhatIsLeft) {
  PriorityQueue<int> queue;
  for (int i : {3, 1, 2}) queue.put(i);
  queue.close();
  std::vector<int> seen;
  for (int item : queue) seen.push_back(item);
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  for (int item : queue) ADD_FAILURE() << "got " << item;
}

}  // namespace
}  // namespace evergreen
