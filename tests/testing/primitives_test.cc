// Under run_with_virtual_time(), the timed waits of every primitive
// (//sync), the futures of a TaskPoolExecutor and the results of a
// ThreadPoolExecutor (whose threads are real) follow the virtual clock.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "evergreen/futures/errors.h"
#include "evergreen/futures/executor.h"
#include "evergreen/futures/future.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/testing.h"
#include "evergreen/sync/channel.h"
#include "evergreen/sync/condition.h"
#include "evergreen/sync/event.h"
#include "evergreen/sync/locks.h"
#include "evergreen/sync/queue.h"
#include "evergreen/sync/thread_safe_queue.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"
#include "tests/testing/watchdog.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using futures::Future;
using futures::TaskPoolExecutor;
using futures::ThreadPoolExecutor;
using testing::run_with_virtual_time;

class VirtualTimePrimitivesTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::destroy_this_threads_loop(); }
  void TearDown() override { testing::destroy_this_threads_loop(); }
  testing::WallClockWatchdog watchdog_{"VirtualTimePrimitivesTest"};
};

Duration since(TimePoint start) { return EventLoop::current().time() - start; }

TEST_F(VirtualTimePrimitivesTest, EventAndConditionWaits) {
  run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    Event event;
    EXPECT_FALSE(event.wait(5s));
    EXPECT_EQ(since(start), 5s);
    auto setter = spawn([&] {
      sleep(2s);
      event.set();
    });
    EXPECT_TRUE(event.wait(1h));
    EXPECT_EQ(since(start), 7s);

    Condition condition;
    condition.acquire();
    EXPECT_FALSE(condition.wait(4s));
    condition.release();
    EXPECT_EQ(since(start), 11s);
  });
}

TEST_F(VirtualTimePrimitivesTest, LockAndSemaphoreTimedAcquires) {
  run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    Lock lock;
    Semaphore permits(1);
    auto holder = spawn([&] {
      lock.acquire();
      permits.acquire();
      sleep(10s);
      lock.release();
      permits.release();
    });
    sleep(0s);  // the holder takes both
    EXPECT_FALSE(lock.acquire(true, 2s));
    EXPECT_EQ(since(start), 2s);
    EXPECT_FALSE(lock.try_lock_until(EventLoop::current().time() + 3s));
    EXPECT_EQ(since(start), 5s);
    EXPECT_FALSE(permits.try_lock_for(1s));
    EXPECT_EQ(since(start), 6s);
    EXPECT_TRUE(permits.acquire(true, 1h));
    EXPECT_EQ(since(start), 10s);
    permits.release();
  });
}

TEST_F(VirtualTimePrimitivesTest, QueueAndChannelTimedWaits) {
  run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    Queue<int> queue;
    EXPECT_EQ(queue.get_for(7s), std::nullopt);
    EXPECT_EQ(since(start), 7s);
    auto producer = spawn([&] {
      sleep(3s);
      queue.put(42);
    });
    EXPECT_EQ(queue.get_for(1h), 42);
    EXPECT_EQ(since(start), 10s);

    Channel<int> channel;
    EXPECT_EQ(channel.receive_for(500ms), std::nullopt);
    EXPECT_EQ(since(start), 10s + 500ms);
  });
}

TEST_F(VirtualTimePrimitivesTest, TaskPoolExecutorFuturesFollowTheClock) {
  run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    TaskPoolExecutor executor(4);
    Future<int> slow = executor.submit([] {
      sleep(10s);
      return 42;
    });
    EXPECT_THROW(slow.get(1s), futures::TimeoutError);
    EXPECT_EQ(since(start), 1s);
    EXPECT_EQ(slow.get(), 42);
    EXPECT_EQ(since(start), 10s);
    executor.shutdown();
  });
}

TEST_F(VirtualTimePrimitivesTest, ThreadPoolExecutorThreadsAreRealAndTheirResultsArrive) {
  run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    ThreadPoolExecutor executor(2);
    // Real work on a real thread: the loop waits for its result (it keeps
    // the loop alive) instead of declaring a deadlock, and with no timer
    // armed the virtual clock has nowhere to jump.
    Future<int> result = executor.submit([] {
      std::this_thread::sleep_for(50ms);
      return 7;
    });
    EXPECT_EQ(result.get(), 7);
    EXPECT_EQ(since(start), 0s);
    executor.shutdown();
  });
}

}  // namespace
}  // namespace evergreen
