// Condition: over its own RLock, a Lock, a Semaphore or a recursively held
// RLock; FIFO notify/notify(n)/notify_all, timeouts, misuse, and kill or
// Timeout while waiting (the lock is always held again when wait() exits).
#include "evergreen/sync/condition.h"

#include <chrono>
#include <deque>
#include <mutex>
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

using ConditionTest = testing::SyncTest;

bool message_has(const std::exception& error, const std::string& text) {
  return std::string(error.what()).find(text) != std::string::npos;
}

TEST_F(ConditionTest, WaitOrNotifyWithoutTheLockIsAnError) {
  Lock lock;
  Condition over_lock(lock);
  Condition over_own_rlock;
  for (Condition* condition : {&over_lock, &over_own_rlock}) {
    try {
      condition->wait(1s);
      FAIL() << "no exception";
    } catch (const std::runtime_error& error) {
      EXPECT_TRUE(message_has(error, "Condition::wait() called without holding")) << error.what();
    }
    EXPECT_THROW(condition->notify(), std::runtime_error);
    EXPECT_THROW(condition->notify_all(), std::runtime_error);
  }
  // Held by another task is not held by the caller.
  Condition condition;
  Event release_now;
  auto owner = spawn([&] {
    std::lock_guard<Condition> hold(condition);
    release_now.wait();
  });
  yield_rounds();
  EXPECT_THROW(condition.notify(), std::runtime_error);
  release_now.set();
  ASSERT_TRUE(owner->join(5s));
}

// Waiters queue up; notify() wakes the longest waiting, notify(2) the next
// two, notify_all() the rest.
TEST_F(ConditionTest, NotifyWakesAtMostNWaitersInFifoOrder) {
  Condition condition;
  std::vector<int> woken;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < 6; ++i) {
    tasks.push_back(spawn([&, i] {
      std::unique_lock<Condition> hold(condition);
      EXPECT_TRUE(condition.wait());
      woken.push_back(i);
    }));
  }
  yield_rounds();
  auto notify = [&](auto how) {
    std::lock_guard<Condition> hold(condition);
    how();
  };
  notify([&] { condition.notify(); });
  yield_rounds();
  EXPECT_EQ(woken, (std::vector<int>{0}));
  notify([&] { condition.notify(2); });
  yield_rounds();
  EXPECT_EQ(woken, (std::vector<int>{0, 1, 2}));
  notify([&] { condition.notify(0); });
  yield_rounds();
  EXPECT_EQ(woken.size(), 3u);
  notify([&] { condition.notify_all(); });
  for (auto& task : tasks) ASSERT_TRUE(task->join(5s));
  EXPECT_EQ(woken, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST_F(ConditionTest, WaitTimesOutWithFalseHoldingTheLockAgain) {
  Lock lock;
  Condition condition(lock);
  std::unique_lock<Condition> hold(condition);
  EXPECT_FALSE(condition.wait(10ms));
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(condition.wait(0s));
  EXPECT_TRUE(lock.locked());
}

// A notified waiter returns only once it holds the lock again; the notifier
// keeps it meanwhile.
TEST_F(ConditionTest, NotifiedWaiterWaitsForTheLock) {
  Lock lock;
  Condition condition(lock);
  bool returned = false;
  auto waiter = spawn([&] {
    std::unique_lock<Condition> hold(condition);
    condition.wait();
    returned = true;
    EXPECT_TRUE(lock.locked());
  });
  yield_rounds();
  {
    std::lock_guard<Condition> hold(condition);
    condition.notify();
    sleep(5ms);  // the waiter runs meanwhile but cannot take the lock
    EXPECT_FALSE(returned);
  }
  ASSERT_TRUE(waiter->join(5s));
  EXPECT_TRUE(returned);
  EXPECT_FALSE(lock.locked());
}

TEST_F(ConditionTest, ProducerConsumerOverASemaphore) {
  Semaphore mutex(1);
  Condition not_empty(mutex);
  std::deque<int> items;
  std::vector<int> consumed;
  auto consumer = spawn([&] {
    for (int n = 0; n < 100; ++n) {
      std::unique_lock<Condition> hold(not_empty);
      EXPECT_TRUE(not_empty.wait_for([&] { return !items.empty(); }, 5s));
      consumed.push_back(items.front());
      items.pop_front();
    }
  });
  for (int i = 0; i < 100; ++i) {
    std::lock_guard<Condition> hold(not_empty);
    items.push_back(i);
    not_empty.notify();
    if (i % 7 == 0) sleep(0s);
  }
  ASSERT_TRUE(consumer->join(5s));
  ASSERT_EQ(consumed.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(consumed[i], i);
}

TEST_F(ConditionTest, WaitForReturnsThePredicateOnTimeout) {
  Condition condition;
  std::unique_lock<Condition> hold(condition);
  EXPECT_FALSE(condition.wait_for([] { return false; }, 10ms));
  EXPECT_TRUE(condition.wait_for([] { return true; }, 0s));
}

// With an RLock held at three levels, wait() frees it completely (another
// task can take it) and restores all three levels afterwards.
TEST_F(ConditionTest, WaitReleasesEveryLevelOfARecursiveRLockAndRestoresThem) {
  RLock lock;
  Condition condition(lock);
  bool other_held_it = false;
  auto waiter = spawn([&] {
    lock.acquire();
    lock.acquire();
    lock.acquire();
    EXPECT_TRUE(condition.wait(5s));
    // Three levels again: two releases leave it held, the third frees it.
    lock.release();
    lock.release();
    EXPECT_TRUE(lock.locked());
    lock.release();
    EXPECT_FALSE(lock.locked());
    EXPECT_THROW(lock.release(), std::runtime_error);
  });
  yield_rounds();
  EXPECT_FALSE(lock.locked());
  {
    std::lock_guard<RLock> hold(lock);
    other_held_it = true;
    condition.notify();
  }
  ASSERT_TRUE(waiter->join(5s));
  EXPECT_TRUE(other_held_it);
}

// Killed while waiting for the notification: the lock is taken back before
// TaskExit propagates, so the waiter's unique_lock releases it cleanly, and
// it has to wait for the lock's current holder to do so.
TEST_F(ConditionTest, KillWhileWaitingPropagatesOnlyOnceTheLockIsHeldAgain) {
  Lock lock;
  Condition condition(lock);
  bool unwound = false;
  auto waiter = spawn([&] {
    struct Mark {
      ~Mark() { *flag = true; }
      bool* flag;
    } mark{&unwound};
    std::unique_lock<Condition> hold(condition);
    condition.wait();
    ADD_FAILURE() << "wait() returned after a kill";
  });
  yield_rounds();
  lock.acquire();  // the main context holds the lock when the kill lands
  waiter->kill();
  yield_rounds();
  EXPECT_FALSE(unwound);  // blocked re-acquiring the lock
  EXPECT_TRUE(waiter->is_alive());
  lock.release();
  ASSERT_TRUE(waiter->join(5s));
  EXPECT_TRUE(unwound);
  EXPECT_FALSE(lock.locked());
  // It left the condition's queue: notifying wakes no one.
  std::lock_guard<Lock> hold(lock);
  condition.notify_all();
}

TEST_F(ConditionTest, TimeoutWhileWaitingPropagatesWithTheLockHeld) {
  Condition condition;
  bool held_in_handler = false;
  auto waiter = spawn([&] {
    std::unique_lock<Condition> hold(condition);
    try {
      Timeout deadline(10ms);
      condition.wait();
    } catch (const Timeout&) {
      held_in_handler = hold.owns_lock();
      // Still owned: notify is allowed.
      condition.notify();
    }
  });
  ASSERT_TRUE(waiter->join(5s));
  EXPECT_TRUE(held_in_handler);
  EXPECT_TRUE(condition.acquire(false));
  condition.release();
}

// Notified and killed in the same loop turn: the notification wins (wait()
// returns true); the kill is raised at the next suspension point.
TEST_F(ConditionTest, NotifiedWaiterKilledInTheSameTurnConsumesTheNotification) {
  Condition condition;
  Event never;
  std::optional<bool> result;
  auto waiter = spawn([&] {
    std::unique_lock<Condition> hold(condition);
    result = condition.wait();
    hold.unlock();
    never.wait();
  });
  yield_rounds();
  waiter->kill();
  {
    std::lock_guard<Condition> hold(condition);
    condition.notify();
  }
  ASSERT_TRUE(waiter->join(5s));
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_TRUE(condition.acquire(false));
  condition.release();
}

// A kill that lands while the waiter is re-acquiring the lock does not
// interrupt the re-acquisition: wait() returns holding the lock, and the
// kill is raised at the next suspension point.
TEST_F(ConditionTest, KillWhileReacquiringIsRaisedAfterTheLockIsHeld) {
  Lock lock;
  Condition condition(lock);
  Event never;
  std::optional<bool> result;
  bool held_after_wait = false;
  auto waiter = spawn([&] {
    std::unique_lock<Condition> hold(condition);
    result = condition.wait();
    held_after_wait = lock.locked() && hold.owns_lock();
    never.wait();  // the pending kill lands here; the guard releases
  });
  yield_rounds();
  lock.acquire();
  condition.notify();
  yield_rounds();  // the waiter now blocks re-acquiring the lock
  waiter->kill();
  yield_rounds();
  EXPECT_TRUE(waiter->is_alive());
  lock.release();  // handed to the waiter
  ASSERT_TRUE(waiter->join(5s));
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_TRUE(held_after_wait);
  EXPECT_FALSE(lock.locked());
}

TEST_F(ConditionTest, MainContextWaitsWhileATaskNotifies) {
  Condition condition;
  bool ready = false;
  spawn([&] {
    std::lock_guard<Condition> hold(condition);
    ready = true;
    condition.notify();
  });
  std::unique_lock<Condition> hold(condition);
  EXPECT_TRUE(condition.wait_for([&] { return ready; }, 5s));
}

}  // namespace
}  // namespace evergreen
