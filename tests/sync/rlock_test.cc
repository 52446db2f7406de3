// RLock: reentrancy, ownership, FIFO hand-off, kill and timeouts while
// blocked, and releasing a lock the caller does not own.
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/sync/event.h"
#include "evergreen/sync/locks.h"
#include "gtest/gtest.h"
#include "sync_test_support.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using RLockTest = testing::SyncTest;

bool message_has(const std::exception& error, const std::string& text) {
  return std::string(error.what()).find(text) != std::string::npos;
}

TEST_F(RLockTest, OwnerMayAcquireAgainAndMustReleaseAsOften) {
  RLock lock;
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire(false));
  bool other_got_it = true;
  auto other = spawn([&] { other_got_it = lock.acquire(false); });
  ASSERT_TRUE(other->join(5s));
  EXPECT_FALSE(other_got_it);
  lock.release();
  lock.release();
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST_F(RLockTest, ReleasingAnUnownedLockIsAnError) {
  RLock lock;
  try {
    lock.release();
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_TRUE(message_has(error, "not acquired")) << error.what();
  }
  lock.acquire();  // owned by the main context
  std::optional<std::string> error_seen;
  auto intruder = spawn([&] {
    try {
      lock.release();
    } catch (const std::runtime_error& error) {
      error_seen = error.what();
    }
  });
  ASSERT_TRUE(intruder->join(5s));
  ASSERT_TRUE(error_seen.has_value());
  EXPECT_NE(error_seen->find("owned by another task"), std::string::npos) << *error_seen;
  EXPECT_TRUE(lock.locked());
  lock.release();
}

TEST_F(RLockTest, LastReleaseHandsTheLockToTheLongestWaiter) {
  RLock lock;
  lock.acquire();
  lock.acquire();
  std::vector<int> order;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back(spawn([&, i] {
      std::lock_guard<RLock> hold(lock);
      order.push_back(i);
      sleep(0s);
    }));
  }
  yield_rounds();
  lock.release();
  yield_rounds();
  EXPECT_TRUE(order.empty());  // still held at one level
  lock.release();
  EXPECT_TRUE(lock.locked());  // already handed to task 0
  EXPECT_FALSE(lock.acquire(false));
  for (auto& task : tasks) ASSERT_TRUE(task->join(5s));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_FALSE(lock.locked());
}

TEST_F(RLockTest, AcquireTimesOut) {
  RLock lock;
  Event release_now;
  auto owner = spawn([&] {
    std::lock_guard<RLock> hold(lock);
    release_now.wait();
  });
  yield_rounds();
  EXPECT_FALSE(lock.acquire(true, 10ms));
  release_now.set();
  ASSERT_TRUE(owner->join(5s));
  EXPECT_TRUE(lock.acquire(true, 5s));
  lock.release();
}

TEST_F(RLockTest, KilledWaiterIsNeverMadeTheOwner) {
  RLock lock;
  lock.acquire();
  auto victim = spawn([&] { lock.acquire(); });
  yield_rounds();
  victim->kill();
  ASSERT_TRUE(victim->join(5s));
  lock.release();
  EXPECT_FALSE(lock.locked());  // not handed to the dead task
  bool got_it = false;
  auto next = spawn([&] {
    got_it = lock.acquire(false);
    if (got_it) lock.release();
  });
  ASSERT_TRUE(next->join(5s));
  EXPECT_TRUE(got_it);
}

TEST_F(RLockTest, WaiterHandedTheLockAndKilledInTheSameTurnOwnsItUntilItUnwinds) {
  RLock lock;
  Event never;
  bool acquired = false;
  lock.acquire();
  auto waiter = spawn([&] {
    std::lock_guard<RLock> hold(lock);
    acquired = true;
    never.wait();  // raises the pending kill; the guard releases
  });
  yield_rounds();
  waiter->kill();
  lock.release();
  ASSERT_TRUE(waiter->join(5s));
  EXPECT_TRUE(acquired);
  EXPECT_FALSE(lock.locked());
}

TEST_F(RLockTest, TimeoutWhileBlockedPropagates) {
  RLock lock;
  Event release_now;
  auto owner = spawn([&] {
    std::lock_guard<RLock> hold(lock);
    release_now.wait();
  });
  yield_rounds();
  EXPECT_THROW(
      {
        Timeout deadline(10ms);
        lock.acquire();
      },
      Timeout);
  release_now.set();
  ASSERT_TRUE(owner->join(5s));
  EXPECT_FALSE(lock.locked());
}

TEST_F(RLockTest, WorksWithStandardLockGuards) {
  RLock lock;
  {
    std::unique_lock<RLock> outer(lock);
    std::lock_guard<RLock> inner(lock);
    std::scoped_lock innermost(lock);
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
}

TEST_F(RLockTest, AcquireInALoopCallbackIsAnError) {
  RLock lock;
  bool threw = false;
  Event done;
  EventLoop::current().call_soon([&] {
    try {
      lock.try_lock();
    } catch (const std::runtime_error& error) {
      threw = message_has(error, "callback");
    }
    done.set();
  });
  EXPECT_TRUE(done.wait(5s));
  EXPECT_TRUE(threw);
}

}  // namespace
}  // namespace evergreen
