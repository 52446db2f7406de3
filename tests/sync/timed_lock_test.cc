// Timed lockables (try_lock_for/try_lock_until, so std::unique_lock's timed
// members work) and any std::chrono::duration in the sync primitives.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/condition.h"
#include "evergreen/sync/event.h"
#include "evergreen/sync/locks.h"
#include "evergreen/sync/queue.h"
#include "gtest/gtest.h"
#include "sync_test_support.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;
using TimedLockTest = testing::SyncTest;
using DoubleMilliseconds = std::chrono::duration<double, std::milli>;

// Holds `lockable` in a task for `hold`, then releases it.
template <class Lockable>
std::shared_ptr<Task> hold_in_task(Lockable& lockable, Duration hold) {
  auto holder = spawn([&lockable, hold] {
    std::lock_guard<Lockable> guard(lockable);
    sleep(hold);
  });
  sleep(0s);  // the holder takes it
  return holder;
}

template <class Lockable>
void check_timed_lockable() {
  Lockable lockable;
  {
    std::unique_lock<Lockable> lock(lockable, std::defer_lock);
    EXPECT_TRUE(lock.try_lock_for(1ms));  // free: at once
  }
  auto holder = hold_in_task(lockable, 30ms);
  {
    std::unique_lock<Lockable> lock(lockable, std::defer_lock);
    EXPECT_FALSE(lock.try_lock_for(DoubleMilliseconds(1.5)));
    EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now() + 1ms));
    EXPECT_FALSE(lock.try_lock_until(std::chrono::system_clock::now() + 1ms));
    EXPECT_TRUE(lock.try_lock_for(10s));  // the holder releases after 30 ms
  }
  ASSERT_TRUE(holder->join(10s));
}

TEST_F(TimedLockTest, LockWorksWithUniqueLockTimedMembers) { check_timed_lockable<Lock>(); }
TEST_F(TimedLockTest, RLockWorksWithUniqueLockTimedMembers) { check_timed_lockable<RLock>(); }
TEST_F(TimedLockTest, SemaphoreWorksWithUniqueLockTimedMembers) {
  check_timed_lockable<Semaphore>();
}
TEST_F(TimedLockTest, BoundedSemaphoreWorksWithUniqueLockTimedMembers) {
  check_timed_lockable<BoundedSemaphore>();
}

TEST_F(TimedLockTest, TryLockUntilAPassedTimePointIsTryLock) {
  Lock lock;
  EXPECT_TRUE(lock.try_lock_until(std::chrono::steady_clock::now() - 1s));
  EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now() - 1s));
  lock.unlock();
}

TEST_F(TimedLockTest, RLockTryLockForByItsOwnerAddsALevel) {
  RLock lock;
  ASSERT_TRUE(lock.try_lock_for(1ms));
  EXPECT_TRUE(lock.try_lock_for(1ms));
  lock.unlock();
  lock.unlock();
  EXPECT_FALSE(lock.locked());
}

TEST_F(TimedLockTest, PrimitivesTakeFloatingPointDurations) {
  Event event;
  EXPECT_FALSE(event.wait(DoubleMilliseconds(0.5)));
  Semaphore semaphore(0);
  EXPECT_FALSE(semaphore.acquire(true, DoubleMilliseconds(0.5)));
  Queue<int> queue(1);
  EXPECT_THROW(queue.get(true, DoubleMilliseconds(0.5)), Empty);
  queue.put(1, true, DoubleMilliseconds(0.5));
  EXPECT_THROW(queue.put(2, true, DoubleMilliseconds(0.5)), Full);
  EXPECT_EQ(queue.get_for(DoubleMilliseconds(0.5)), std::optional<int>(1));
  EXPECT_FALSE(queue.join(DoubleMilliseconds(0.5)));  // one item not done
  queue.task_done();
  Condition condition;
  std::lock_guard<Condition> guard(condition);
  EXPECT_FALSE(condition.wait(DoubleMilliseconds(0.5)));
  EXPECT_FALSE(condition.wait_for([] { return false; }, DoubleMilliseconds(0.5)));
}

}  // namespace
}  // namespace evergreen
