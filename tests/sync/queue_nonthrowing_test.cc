// Queue, LifoQueue, PriorityQueue: the non-throwing waits try_get, get_for,
// try_put and put_for. They report "nothing"/"no room" with nullopt/false,
// never Empty/Full, and still throw QueueClosed and a kill or Timeout.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/sync/queue.h"
#include "gtest/gtest.h"
#include "sync_test_support.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using QueueNonThrowingTest = testing::SyncTest;

TEST_F(QueueNonThrowingTest, TryGetOnEmptyReturnsNullopt) {
  Queue<int> queue;
  EXPECT_EQ(queue.try_get(), std::nullopt);
  queue.put(5);
  EXPECT_EQ(queue.try_get(), 5);
  EXPECT_EQ(queue.try_get(), std::nullopt);
}

TEST_F(QueueNonThrowingTest, GetForTimesOutWithNullopt) {
  LifoQueue<int> queue;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(queue.get_for(20ms), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_EQ(queue.get_for(0s), std::nullopt);
}

TEST_F(QueueNonThrowingTest, GetForReturnsAnItemPutWhileItWaits) {
  Queue<std::string> queue;
  spawn([&] {
    sleep(1ms);
    queue.put("late");
  });
  EXPECT_EQ(queue.get_for(5s), "late");
}

TEST_F(QueueNonThrowingTest, FractionalDurationsRoundUpInsteadOfToZero) {
  Queue<int> queue;
  auto start = std::chrono::steady_clock::now();
  // 0.01 s as a double, and a duration shorter than a nanosecond.
  EXPECT_EQ(queue.get_for(std::chrono::duration<double>(0.01)), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 10ms);
  EXPECT_EQ(queue.get_for(std::chrono::duration<double, std::nano>(0.5)), std::nullopt);
  spawn([&] { queue.put(1); });
  EXPECT_EQ(queue.get_for(std::chrono::duration<double>(5.0)), 1);
}

TEST_F(QueueNonThrowingTest, TryPutOnAFullQueueReturnsFalseAndLeavesTheItemWithTheCaller) {
  Queue<std::unique_ptr<int>> queue(1);
  EXPECT_TRUE(queue.try_put(std::make_unique<int>(1)));
  auto item = std::make_unique<int>(2);
  EXPECT_FALSE(queue.try_put(std::move(item)));
  ASSERT_NE(item, nullptr);  // not moved from: still the caller's
  EXPECT_EQ(*item, 2);
  EXPECT_EQ(queue.qsize(), 1u);
  EXPECT_EQ(*queue.get(), 1);
  EXPECT_TRUE(queue.try_put(std::move(item)));
  EXPECT_EQ(item, nullptr);
  EXPECT_EQ(*queue.get(), 2);

  Queue<std::string> copies(1);
  const std::string text = "copied";
  EXPECT_TRUE(copies.try_put(text));
  EXPECT_FALSE(copies.try_put(text));
  EXPECT_EQ(copies.get(), "copied");
}

TEST_F(QueueNonThrowingTest, PutForOnAFullQueueTimesOutWithFalseAndTheItemCountUnchanged) {
  PriorityQueue<int> queue(2);
  queue.put(1);
  queue.put(2);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(queue.put_for(3, 20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_FALSE(queue.put_for(3, 0s));
  EXPECT_EQ(queue.qsize(), 2u);
  EXPECT_EQ(queue.unfinished_tasks(), 2u);
  EXPECT_EQ(queue.get(), 1);
  EXPECT_EQ(queue.get(), 2);
  EXPECT_EQ(queue.try_get(), std::nullopt);
}

TEST_F(QueueNonThrowingTest, PutForSucceedsWhenAGetFreesASlotInTime) {
  Queue<std::unique_ptr<int>> queue(1);
  queue.put(std::make_unique<int>(1));
  spawn([&] {
    sleep(1ms);
    EXPECT_EQ(*queue.get(), 1);
  });
  auto item = std::make_unique<int>(2);
  EXPECT_TRUE(queue.put_for(std::move(item), 5s));
  EXPECT_EQ(item, nullptr);
  EXPECT_EQ(*queue.get(), 2);
}

TEST_F(QueueNonThrowingTest, PutForThatTimesOutLeavesAMoveOnlyItemWithTheCaller) {
  Queue<std::unique_ptr<int>> queue(1);
  queue.put(std::make_unique<int>(1));
  auto item = std::make_unique<int>(2);
  EXPECT_FALSE(queue.put_for(std::move(item), 5ms));
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(*item, 2);
}

TEST_F(QueueNonThrowingTest, ClosedQueuesStillThrowQueueClosed) {
  Queue<int> queue(1);
  queue.put(1);
  queue.close();
  EXPECT_THROW(queue.try_put(2), QueueClosed);
  EXPECT_THROW(queue.put_for(2, 1s), QueueClosed);
  EXPECT_EQ(queue.try_get(), 1);
  EXPECT_THROW(queue.try_get(), QueueClosed);
  EXPECT_THROW(queue.get_for(1s), QueueClosed);
}

TEST_F(QueueNonThrowingTest, CloseWakesBlockedGetForAndPutForWithQueueClosed) {
  Queue<int> empty;
  Queue<int> full(1);
  full.put(0);
  bool getter_closed = false;
  bool putter_closed = false;
  auto getter = spawn([&] {
    try {
      empty.get_for(5s);
    } catch (const QueueClosed&) {
      getter_closed = true;
    }
  });
  auto putter = spawn([&] {
    try {
      full.put_for(1, 5s);
    } catch (const QueueClosed&) {
      putter_closed = true;
    }
  });
  yield_rounds();
  empty.close();
  full.close();
  ASSERT_TRUE(getter->join(5s));
  ASSERT_TRUE(putter->join(5s));
  EXPECT_TRUE(getter_closed);
  EXPECT_TRUE(putter_closed);
  EXPECT_EQ(full.qsize(), 1u);
}

TEST_F(QueueNonThrowingTest, TimeoutDeliveredWhileBlockedStillPropagates) {
  Queue<int> queue;
  EXPECT_THROW(
      {
        Timeout deadline(10ms);
        queue.get_for(5s);
      },
      Timeout);
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace evergreen
