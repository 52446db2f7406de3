// ThreadSafeQueue: Queue's behaviour, shared by tasks on several loops and
// plain threads; close(), the non-throwing variants and iteration.
#include "evergreen/sync/thread_safe_queue.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/loop_group.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/sync/sync_test_support.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;

using testing::SyncTest;
using ThreadSafeQueueTest = SyncTest;

constexpr auto kPatience = 20s;

template <class T>
T wait_for(std::future<T>& future) {
  if (future.wait_for(kPatience) != std::future_status::ready) {
    ADD_FAILURE() << "timed out";
    std::abort();  // other threads reference this test's frame
  }
  return future.get();
}

TEST_F(ThreadSafeQueueTest, HasQueuesMembersAndMeanings) {
  ThreadSafeQueue<int> q(2);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.maxsize(), 2u);
  q.put(1);
  q.put_nowait(2);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_THROW(q.put_nowait(3), Full);
  EXPECT_THROW(q.put(3, true, 10ms), Full);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_THROW(q.get_nowait(), Empty);
  EXPECT_THROW(q.get(true, 10ms), Empty);
  EXPECT_EQ(q.unfinished_tasks(), 2u);
  q.task_done();
  EXPECT_FALSE(q.join(0s));
  q.task_done();
  EXPECT_TRUE(q.join());
  EXPECT_THROW(q.task_done(), std::invalid_argument);
}

TEST_F(ThreadSafeQueueTest, NonThrowingVariantsReportNoItemOrNoSlot) {
  ThreadSafeQueue<int> q(1);
  EXPECT_EQ(q.try_get(), std::nullopt);
  EXPECT_EQ(q.get_for(10ms), std::nullopt);
  EXPECT_TRUE(q.try_put(1));
  EXPECT_FALSE(q.try_put(2));
  EXPECT_FALSE(q.put_for(2, 10ms));
  EXPECT_EQ(q.try_get(), 1);
  EXPECT_TRUE(q.put_for(3, 10ms));
  EXPECT_EQ(q.get_for(std::chrono::duration<double>(0.01)), 3);
}

TEST_F(ThreadSafeQueueTest, AThreadWithoutALoopBlocksItsOSThread) {
  // A fresh thread: no loop is created for it, and its other work waits.
  std::promise<std::pair<int, bool>> outcome;
  ThreadSafeQueue<int> q;
  std::thread consumer([&] {
    int item = q.get();
    outcome.set_value({item, internal::Scheduler::for_this_thread() == nullptr});
  });
  q.put(3);
  auto result = outcome.get_future();
  EXPECT_EQ(wait_for(result), std::make_pair(3, true));
  consumer.join();
}

TEST_F(ThreadSafeQueueTest, APlainThreadBlocksUntilATaskPuts) {
  ThreadSafeQueue<std::string> q;
  std::promise<std::string> got;
  std::thread consumer([&] { got.set_value(q.get()); });
  sleep(20ms);  // let the consumer block first (either order must work)
  q.put("from the main context");
  auto result = got.get_future();
  EXPECT_EQ(wait_for(result), "from the main context");
  consumer.join();
}

TEST_F(ThreadSafeQueueTest, AWaitingTaskBlocksOnlyItselfAndAPlainThreadWakesIt) {
  ThreadSafeQueue<int> q;
  int got = 0;
  auto consumer = spawn([&] { got = q.get(); });
  int ticks = 0;
  auto ticker = spawn([&] {
    for (int i = 0; i < 5; ++i) {
      ++ticks;
      sleep(0s);
    }
  });
  EXPECT_TRUE(ticker->join(5s));
  EXPECT_EQ(ticks, 5) << "the loop kept running other tasks";
  EXPECT_EQ(got, 0);
  std::thread producer([&] { q.put(42); });
  EXPECT_TRUE(consumer->join(kPatience));
  EXPECT_EQ(got, 42);
  producer.join();
}

TEST_F(ThreadSafeQueueTest, TheMainContextWaitsForAnotherThreadWithoutDeadlockError) {
  EventLoop::current();  // this thread has a loop: its main context parks on it
  ThreadSafeQueue<int> q;
  std::thread producer([&] {
    std::this_thread::sleep_for(30ms);
    q.put(7);
  });
  EXPECT_EQ(q.get(), 7);  // nothing else on this loop: the wait keeps it alive
  producer.join();
}

TEST_F(ThreadSafeQueueTest, TasksOnTwoLoopsOfAGroupExchangeItems) {
  ThreadSafeQueue<int> ping(1), pong(1);
  std::promise<int> total;
  LoopGroup group(2);
  group.post(0, [&] {
    int sum = 0;
    for (int i = 1; i <= 1000; ++i) {
      ping.put(i);
      sum += pong.get();
    }
    total.set_value(sum);
  });
  group.post(1, [&] {
    for (int i = 1; i <= 1000; ++i) pong.put(ping.get() * 2);
  });
  auto result = total.get_future();
  EXPECT_EQ(wait_for(result), 1000 * 1001);
}

TEST_F(ThreadSafeQueueTest, WaitingConsumersAreServedInTheOrderTheyBlocked) {
  ThreadSafeQueue<int> q;
  std::vector<std::pair<int, int>> got;  // (consumer, item)
  std::vector<std::shared_ptr<Task>> consumers;
  for (int c = 0; c < 3; ++c) consumers.push_back(spawn([&, c] { got.emplace_back(c, q.get()); }));
  yield_rounds();
  std::thread producer([&] {
    for (int i = 10; i < 13; ++i) q.put(i);
  });
  producer.join();
  for (auto& consumer : consumers) EXPECT_TRUE(consumer->join(kPatience));
  EXPECT_EQ(got, (std::vector<std::pair<int, int>>{{0, 10}, {1, 11}, {2, 12}}));
}

TEST_F(ThreadSafeQueueTest, BlockedProducersEnterTheQueueInTheOrderTheyBlocked) {
  ThreadSafeQueue<int> q(1);
  q.put(1);
  std::vector<std::shared_ptr<Task>> producers;
  for (int p = 2; p <= 4; ++p) producers.push_back(spawn([&, p] { q.put(p); }));
  yield_rounds();
  EXPECT_EQ(q.qsize(), 1u);
  std::vector<int> got;
  std::thread consumer([&] {
    for (int i = 0; i < 4; ++i) got.push_back(q.get());
  });
  consumer.join();
  for (auto& producer : producers) EXPECT_TRUE(producer->join(kPatience));
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
}

TEST_F(ThreadSafeQueueTest, KillInterruptsAWaitAndTheKilledWaiterTakesNothing) {
  ThreadSafeQueue<int> q;
  bool returned = false;
  auto consumer = spawn([&] {
    q.get();
    returned = true;
  });
  yield_rounds();
  kill_and_join(consumer);
  EXPECT_FALSE(returned);
  q.put(5);
  EXPECT_EQ(q.qsize(), 1u) << "the item stays for the next consumer";
  EXPECT_EQ(q.get(), 5);
}

TEST_F(ThreadSafeQueueTest, ATimeoutInterruptsAWait) {
  ThreadSafeQueue<int> q(1);
  q.put(0);
  bool timed_out = false;
  auto producer = spawn([&] {
    try {
      Timeout deadline(20ms);
      q.put(1);
    } catch (const Timeout&) {
      timed_out = true;
    }
  });
  EXPECT_TRUE(producer->join(kPatience));
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(q.get(), 0);
  EXPECT_EQ(q.try_get(), std::nullopt) << "the timed-out producer's item was not added";
}

TEST_F(ThreadSafeQueueTest, AWaiterServedAndKilledInTheSameTurnKeepsTheItem) {
  for (bool kill_first : {false, true}) {
    ThreadSafeQueue<int> q;
    int got = 0;
    bool survived = false;
    auto consumer = spawn([&] {
      got = q.get();
      sleep(0s);  // the kill is raised here, at the next suspension point
      survived = true;
    });
    yield_rounds();
    EventLoop::current().call_soon([&] {
      if (kill_first) consumer->kill();
      q.put_nowait(9);
      if (!kill_first) consumer->kill();
    });
    EXPECT_TRUE(consumer->join(kPatience));
    EXPECT_EQ(got, 9) << "kill_first=" << kill_first;
    EXPECT_FALSE(survived);
    EXPECT_EQ(q.qsize(), 0u) << "delivered once";
  }
}

TEST_F(ThreadSafeQueueTest, AWaiterServedAsItsDeadlinePassesKeepsTheItem) {
  ThreadSafeQueue<int> q;
  std::optional<int> got;
  auto consumer = spawn([&] { got = q.get_for(10ms); });
  yield_rounds();
  // The deadline passes while the thread is stalled, and the put comes in
  // the same turn as the timer, before the consumer resumes.
  EventLoop::current().call_later(10ms, [&] { q.put_nowait(4); });
  stall_thread(30ms);
  EXPECT_TRUE(consumer->join(kPatience));
  if (got) {
    EXPECT_EQ(*got, 4);
    EXPECT_EQ(q.qsize(), 0u);
  } else {
    EXPECT_EQ(q.get_nowait(), 4) << "a timed-out consumer took nothing";
  }
}

TEST_F(ThreadSafeQueueTest, CloseWakesBlockedConsumersAndProducersWithQueueClosed) {
  ThreadSafeQueue<int> empty_queue;
  ThreadSafeQueue<int> full_queue(1);
  full_queue.put(1);
  int closed_count = 0;
  auto getter = spawn([&] {
    try {
      empty_queue.get();
    } catch (const QueueClosed&) {
      ++closed_count;
    }
  });
  auto putter = spawn([&] {
    try {
      full_queue.put(2);
    } catch (const QueueClosed&) {
      ++closed_count;
    }
  });
  std::promise<bool> thread_closed;
  std::thread thread_getter([&] {
    try {
      empty_queue.get();
      thread_closed.set_value(false);
    } catch (const QueueClosed&) {
      thread_closed.set_value(true);
    }
  });
  yield_rounds();
  std::this_thread::sleep_for(20ms);  // let the thread block (either order must work)
  empty_queue.close();
  full_queue.close();
  full_queue.close();  // again: nothing
  EXPECT_TRUE(getter->join(kPatience));
  EXPECT_TRUE(putter->join(kPatience));
  auto result = thread_closed.get_future();
  EXPECT_TRUE(wait_for(result));
  thread_getter.join();
  EXPECT_EQ(closed_count, 2);
  EXPECT_TRUE(full_queue.closed());
  EXPECT_THROW(full_queue.put(3), QueueClosed);
  EXPECT_THROW(full_queue.try_put(3), QueueClosed);
  EXPECT_EQ(full_queue.get(), 1) << "close drains what is left";
  EXPECT_THROW(full_queue.get(), QueueClosed);
  EXPECT_THROW(full_queue.try_get(), QueueClosed);
  EXPECT_THROW(full_queue.get_for(1ms), QueueClosed);
}

TEST_F(ThreadSafeQueueTest, RangeForTakesItemsUntilClosedAndDrained) {
  ThreadSafeQueue<std::unique_ptr<int>> q;
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) q.put(std::make_unique<int>(i));
    q.close();
  });
  int expected = 0;
  for (std::unique_ptr<int> item : q) {
    EXPECT_EQ(*item, expected);
    ++expected;
  }
  EXPECT_EQ(expected, 100);
  producer.join();
}

TEST_F(ThreadSafeQueueTest, JoinWaitsForTaskDoneFromAnotherThread) {
  ThreadSafeQueue<int> q;
  for (int i = 0; i < 10; ++i) q.put(i);
  std::thread worker([&] {
    for (int i = 0; i < 10; ++i) {
      q.get();
      q.task_done();
    }
  });
  EXPECT_TRUE(q.join(kPatience));
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  worker.join();
}

TEST_F(ThreadSafeQueueTest, BlockingInALoopCallbackThrows) {
  ThreadSafeQueue<int> q;
  std::string message;
  EventLoop::current().call_soon([&] {
    try {
      q.get();
    } catch (const std::runtime_error& error) {
      message = error.what();
    }
    EXPECT_EQ(q.try_get(), std::nullopt) << "non-blocking calls work in callbacks";
  });
  yield_rounds();
  EXPECT_NE(message.find("ThreadSafeQueue::get"), std::string::npos) << message;
  EXPECT_NE(message.find("callback"), std::string::npos) << message;
}

TEST_F(ThreadSafeQueueTest, PlainThreadsTimeOut) {
  ThreadSafeQueue<int> q(1);
  q.put(1);
  std::promise<std::pair<bool, bool>> outcome;
  std::thread thread([&] {
    bool put = q.put_for(2, 10ms);
    q.get();
    bool got = q.get_for(10ms).has_value();
    outcome.set_value({put, got});
  });
  auto result = outcome.get_future();
  EXPECT_EQ(wait_for(result), std::make_pair(false, false));
  thread.join();
}

}  // namespace
}  // namespace evergreen
