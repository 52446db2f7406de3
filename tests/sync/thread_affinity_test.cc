// The single-loop rule for the primitives (API.md, Conventions): a primitive
// belongs to the thread that first uses it, and any member called from
// another thread throws std::logic_error naming the object and both threads
// instead of racing. EventLoop::call_from_thread stays the way to hand work
// over. Checked only in builds without NDEBUG: skipped otherwise.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/channel.h"
#include "evergreen/sync/condition.h"
#include "evergreen/sync/event.h"
#include "evergreen/sync/locks.h"
#include "evergreen/sync/queue.h"
#include "gtest/gtest.h"
#include "sync_test_support.h"
#include "tests/foreign_thread.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::call_on_another_thread;
using testing::expect_wrong_thread_error;

class ThreadAffinityTest : public testing::SyncTest {
 protected:
  void SetUp() override {
    if (!testing::thread_checks_compiled_in()) {
      GTEST_SKIP() << "NDEBUG build: the owner-thread check is compiled out";
    }
  }
};

TEST_F(ThreadAffinityTest, QueuePutNowaitFromAnotherThreadThrows) {
  Queue<int> queue;
  queue.put_nowait(1);  // binds the queue to this thread
  auto call = call_on_another_thread([&] { queue.put_nowait(2); });
  expect_wrong_thread_error(call, "Queue");
  EXPECT_NE(call.message.find("put_nowait"), std::string::npos) << call.message;
  EXPECT_EQ(queue.qsize(), 1u) << "the foreign call changed nothing";
}

TEST_F(ThreadAffinityTest, EachQueueKindNamesItself) {
  LifoQueue<int> lifo;
  PriorityQueue<int> priority;
  EXPECT_TRUE(lifo.empty());
  EXPECT_TRUE(priority.empty());
  expect_wrong_thread_error(call_on_another_thread([&] { lifo.get_nowait(); }), "LifoQueue");
  expect_wrong_thread_error(call_on_another_thread([&] { priority.qsize(); }), "PriorityQueue");
}

TEST_F(ThreadAffinityTest, EventSetFromAnotherThreadThrowsAndWakesNobody) {
  Event event;
  bool woke = false;
  auto waiter = spawn([&] { woke = event.wait(); });
  yield_rounds();  // the waiter blocks: the event is now this thread's
  auto call = call_on_another_thread([&] { event.set(); });
  expect_wrong_thread_error(call, "Event");
  yield_rounds();
  EXPECT_FALSE(woke);
  event.set();
  EXPECT_TRUE(waiter->join(5s));
  EXPECT_TRUE(woke);
}

TEST_F(ThreadAffinityTest, LockAcquireAndReleaseFromAnotherThreadThrow) {
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  expect_wrong_thread_error(call_on_another_thread([&] { lock.release(); }), "Lock");
  expect_wrong_thread_error(call_on_another_thread([&] { lock.acquire(false); }), "Lock");
  EXPECT_TRUE(lock.locked());
  lock.release();
}

TEST_F(ThreadAffinityTest, SemaphoresAndRLockNameThemselves) {
  Semaphore semaphore(2);
  BoundedSemaphore bounded(1);
  RLock rlock;
  semaphore.acquire();
  bounded.acquire();
  rlock.acquire();
  expect_wrong_thread_error(call_on_another_thread([&] { semaphore.release(); }), "Semaphore");
  expect_wrong_thread_error(call_on_another_thread([&] { bounded.release(); }), "BoundedSemaphore");
  expect_wrong_thread_error(call_on_another_thread([&] { rlock.acquire(false); }), "RLock");
  rlock.release();
  EXPECT_EQ(semaphore.value(), 1);
  EXPECT_EQ(bounded.value(), 0);
}

TEST_F(ThreadAffinityTest, ConditionNotifyFromAnotherThreadThrows) {
  Condition condition;
  condition.acquire();
  expect_wrong_thread_error(call_on_another_thread([&] { condition.notify_all(); }), "Condition");
  condition.release();
}

TEST_F(ThreadAffinityTest, ChannelSendAndCloseFromAnotherThreadThrow) {
  Channel<int> channel;
  EXPECT_FALSE(channel.closed());
  expect_wrong_thread_error(call_on_another_thread([&] { channel.send(1); }), "Channel");
  expect_wrong_thread_error(call_on_another_thread([&] { channel.close(); }), "Channel");
  EXPECT_FALSE(channel.closed());
}

TEST_F(ThreadAffinityTest, AnObjectBelongsToItsFirstUserNotItsConstructor) {
  // Built here, handed to another thread's loop before any use: that thread
  // owns it, and this one may no longer touch it.
  auto queue = std::make_unique<Queue<int>>();
  std::thread owner([&] {
    EventLoop loop;
    queue->put_nowait(7);
    EXPECT_EQ(queue->get(), 7);
    loop.destroy();
  });
  owner.join();
  bool threw = false;
  try {
    queue->put_nowait(8);
  } catch (const std::logic_error& error) {
    threw = true;
    EXPECT_NE(std::string(error.what()).find("evergreen::Queue"), std::string::npos)
        << error.what();
  }
  EXPECT_TRUE(threw);
}

TEST_F(ThreadAffinityTest, CallFromThreadStillHandsWorkOver) {
  Queue<int> queue;
  Event done;
  EXPECT_TRUE(queue.empty());
  EventLoop& loop = EventLoop::current();
  std::thread producer([&] {
    for (int i = 0; i < 3; ++i) loop.call_from_thread([&queue, i] { queue.put_nowait(i); });
    loop.call_from_thread([&] { done.set(); });
  });
  EXPECT_TRUE(done.wait(10s));
  producer.join();
  EXPECT_EQ(queue.get_nowait(), 0);
  EXPECT_EQ(queue.get_nowait(), 1);
  EXPECT_EQ(queue.get_nowait(), 2);
}

}  // namespace
}  // namespace evergreen
