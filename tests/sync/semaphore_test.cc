// Semaphore, BoundedSemaphore and Lock: counting, FIFO hand-off, timeouts,
// kill and Timeout while blocked, the races between them and release(), and
// misuse errors.
#include <algorithm>
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

using SemaphoreTest = testing::SyncTest;

bool message_has(const std::exception& error, const std::string& text) {
  return std::string(error.what()).find(text) != std::string::npos;
}

TEST_F(SemaphoreTest, CountsPermits) {
  Semaphore semaphore(2);
  EXPECT_EQ(semaphore.value(), 2);
  EXPECT_TRUE(semaphore.acquire());
  EXPECT_TRUE(semaphore.acquire(false));
  EXPECT_FALSE(semaphore.acquire(false));
  EXPECT_FALSE(semaphore.acquire(false, 1s));  // non-blocking ignores the timeout
  EXPECT_EQ(semaphore.value(), 0);
  semaphore.release();
  semaphore.release();
  semaphore.release();  // an unbounded semaphore counts on
  EXPECT_EQ(semaphore.value(), 3);
  Semaphore defaulted;
  EXPECT_EQ(defaulted.value(), 1);
}

TEST_F(SemaphoreTest, NegativeInitialValueIsInvalid) {
  try {
    Semaphore semaphore(-1);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_TRUE(message_has(error, "initial value")) << error.what();
  }
  EXPECT_THROW(BoundedSemaphore(-3), std::invalid_argument);
}

TEST_F(SemaphoreTest, AcquireTimesOutWithFalseAndTakesNothing) {
  Semaphore semaphore(0);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(semaphore.acquire(true, 20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_FALSE(semaphore.acquire(true, 0s));
  semaphore.release();
  EXPECT_EQ(semaphore.value(), 1);
}

TEST_F(SemaphoreTest, ReleaseWakesExactlyOneWaiterInFifoOrder) {
  Semaphore semaphore(0);
  std::vector<int> acquired;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back(spawn([&, i] {
      semaphore.acquire();
      acquired.push_back(i);
    }));
  }
  yield_rounds();
  EXPECT_TRUE(acquired.empty());
  semaphore.release();
  yield_rounds();
  EXPECT_EQ(acquired, (std::vector<int>{0}));
  semaphore.release();
  yield_rounds();
  EXPECT_EQ(acquired, (std::vector<int>{0, 1}));
  semaphore.release();
  for (auto& task : tasks) ASSERT_TRUE(task->join(5s));
  EXPECT_EQ(acquired, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(semaphore.value(), 0);
}

TEST_F(SemaphoreTest, ReleaseHandsThePermitToTheWaiterSoNoNewcomerBarges) {
  Semaphore semaphore(0);
  bool waiter_got_it = false;
  auto waiter = spawn([&] { waiter_got_it = semaphore.acquire(true, 5s); });
  yield_rounds();
  semaphore.release();
  // The waiter has not run yet, but the permit is already its own.
  EXPECT_FALSE(semaphore.acquire(false));
  ASSERT_TRUE(waiter->join(5s));
  EXPECT_TRUE(waiter_got_it);
}

TEST_F(SemaphoreTest, MainContextBlocksUntilATaskReleases) {
  Semaphore semaphore(0);
  spawn([&] {
    sleep(1ms);
    semaphore.release();
  });
  EXPECT_TRUE(semaphore.acquire(true, 5s));
}

TEST_F(SemaphoreTest, KilledWaiterLeavesTheQueueWithoutThePermit) {
  Semaphore semaphore(0);
  bool acquired = false;
  auto victim = spawn([&] { acquired = semaphore.acquire(); });
  yield_rounds();
  victim->kill();
  ASSERT_TRUE(victim->join(5s));
  EXPECT_FALSE(acquired);
  semaphore.release();  // must not go to the dead task
  EXPECT_EQ(semaphore.value(), 1);
}

TEST_F(SemaphoreTest, TimeoutWhileBlockedPropagatesAndTakesNothing) {
  Semaphore semaphore(0);
  EXPECT_THROW(
      {
        Timeout deadline(10ms);
        semaphore.acquire();
      },
      Timeout);
  semaphore.release();
  EXPECT_EQ(semaphore.value(), 1);
}

// A waiter that is handed the permit and killed in the same loop turn keeps
// the permit (acquire() returns true); the kill is raised at its next
// suspension point, where its guard gives the permit back.
TEST_F(SemaphoreTest, PermitHandedToAWaiterKilledInTheSameTurnIsNotLost) {
  Semaphore semaphore(0);
  Event never;
  bool acquired = false, killed_later = false;
  auto waiter = spawn([&] {
    std::lock_guard<Semaphore> hold(semaphore);
    acquired = true;
    try {
      never.wait();  // the next suspension point raises the pending kill
    } catch (const TaskExit&) {
      killed_later = true;
      throw;
    }
  });
  yield_rounds();
  // The kill is queued on the loop first, then release() wakes the waiter:
  // both land before the waiter runs again.
  waiter->kill();
  semaphore.release();
  ASSERT_TRUE(waiter->join(5s));
  EXPECT_TRUE(acquired);
  EXPECT_TRUE(killed_later);
  EXPECT_EQ(semaphore.value(), 1);
}

// The waiter's timeout and a release() fall due in the same loop turn, the
// release first: the waiter gets the permit and acquire() returns true.
TEST_F(SemaphoreTest, ReleaseBeforeTimeoutInTheSameTurnGivesThePermit) {
  Semaphore semaphore(0);
  std::optional<bool> result;
  auto waiter = spawn([&] { result = semaphore.acquire(true, 5ms); });
  yield_rounds(1);  // the waiter is blocked, its deadline ~5 ms away
  EventLoop::current().call_later(1ms, [&] { semaphore.release(); });
  stall_thread(20ms);  // both are overdue when the loop next looks
  ASSERT_TRUE(waiter->join(5s));
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_EQ(semaphore.value(), 0);
}

// Same, the timeout first: the waiter returns false and the permit stays in
// the semaphore.
TEST_F(SemaphoreTest, TimeoutBeforeReleaseInTheSameTurnKeepsThePermit) {
  Semaphore semaphore(0);
  std::optional<bool> result;
  auto waiter = spawn([&] { result = semaphore.acquire(true, 1ms); });
  yield_rounds(1);
  EventLoop::current().call_later(5ms, [&] { semaphore.release(); });
  stall_thread(20ms);
  ASSERT_TRUE(waiter->join(5s));
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  yield_rounds();
  EXPECT_EQ(semaphore.value(), 1);
}

TEST_F(SemaphoreTest, AcquireInALoopCallbackWorksUnlessItWouldBlock) {
  Semaphore semaphore(1);
  bool first = false, second_threw = false;
  Event done;
  EventLoop::current().call_soon([&] {
    first = semaphore.acquire();
    try {
      semaphore.acquire();
    } catch (const std::runtime_error&) {
      second_threw = true;
    }
    semaphore.release();  // releasing from a callback is fine
    done.set();
  });
  EXPECT_TRUE(done.wait(5s));
  EXPECT_TRUE(first);
  EXPECT_TRUE(second_threw);
  EXPECT_EQ(semaphore.value(), 1);
}

TEST_F(SemaphoreTest, BoundedSemaphoreRejectsReleasingPastItsInitialValue) {
  BoundedSemaphore semaphore(2);
  semaphore.acquire();
  semaphore.release();
  try {
    semaphore.release();
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_TRUE(message_has(error, "BoundedSemaphore")) << error.what();
  }
  EXPECT_EQ(semaphore.value(), 2);
}

TEST_F(SemaphoreTest, LockIsASemaphoreOfOneAndNotReentrant) {
  Lock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  // A second acquire by the same task blocks: here until its timeout.
  EXPECT_FALSE(lock.acquire(true, 10ms));
  EXPECT_FALSE(lock.try_lock());
  lock.release();
  EXPECT_FALSE(lock.locked());
  Semaphore& as_semaphore = lock;
  EXPECT_EQ(as_semaphore.value(), 1);
}

TEST_F(SemaphoreTest, ReleasingAnUnlockedLockIsAnError) {
  Lock lock;
  try {
    lock.release();
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_TRUE(message_has(error, "not locked")) << error.what();
  }
}

TEST_F(SemaphoreTest, WorksWithStandardLockGuards) {
  Lock lock;
  Semaphore semaphore(1);
  BoundedSemaphore bounded(1);
  {
    std::lock_guard<Lock> hold(lock);
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
  {
    std::unique_lock<Semaphore> hold(semaphore, std::try_to_lock);
    EXPECT_TRUE(hold.owns_lock());
    std::unique_lock<Semaphore> again(semaphore, std::try_to_lock);
    EXPECT_FALSE(again.owns_lock());
  }
  EXPECT_EQ(semaphore.value(), 1);
  {
    std::scoped_lock hold(lock, semaphore, bounded);
    EXPECT_TRUE(lock.locked());
    EXPECT_EQ(semaphore.value(), 0);
    EXPECT_EQ(bounded.value(), 0);
  }
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(semaphore.value(), 1);
  EXPECT_EQ(bounded.value(), 1);
}

// Many tasks taking the same two locks through std::scoped_lock (in one
// consistent order, see locks.h on std::lock and hand-off) all finish, and
// mutual exclusion holds across the suspensions inside the critical section.
TEST_F(SemaphoreTest, ScopedLockOverTwoLocksUnderContention) {
  Lock a;
  Semaphore b(1);
  int inside = 0, max_inside = 0, done = 0;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < 6; ++i) {
    tasks.push_back(spawn([&] {
      for (int round = 0; round < 20; ++round) {
        std::scoped_lock hold(a, b);
        max_inside = std::max(max_inside, ++inside);
        sleep(0s);
        --inside;
      }
      ++done;
    }));
  }
  for (auto& task : tasks) ASSERT_TRUE(task->join(10s));
  EXPECT_EQ(done, 6);
  EXPECT_EQ(max_inside, 1);
  EXPECT_FALSE(a.locked());
  EXPECT_EQ(b.value(), 1);
}

// Two tasks taking two locks in opposite orders through std::scoped_lock
// (std::lock's deadlock avoidance) both finish.
TEST_F(SemaphoreTest, ScopedLockInOppositeOrdersByTwoTasksDoesNotDeadlock) {
  Lock a, b;
  int sections = 0;
  auto forward = spawn([&] {
    for (int round = 0; round < 50; ++round) {
      std::scoped_lock hold(a, b);
      ++sections;
      sleep(0s);
    }
  });
  auto backward = spawn([&] {
    for (int round = 0; round < 50; ++round) {
      std::scoped_lock hold(b, a);
      ++sections;
      sleep(0s);
    }
  });
  ASSERT_TRUE(forward->join(10s));
  ASSERT_TRUE(backward->join(10s));
  EXPECT_EQ(sections, 100);
}

TEST_F(SemaphoreTest, LockGivesMutualExclusionAcrossSuspensions) {
  Lock lock;
  int counter = 0, inside = 0, max_inside = 0;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < 20; ++i) {
    tasks.push_back(spawn([&] {
      for (int round = 0; round < 10; ++round) {
        std::lock_guard<Lock> hold(lock);
        max_inside = std::max(max_inside, ++inside);
        int seen = counter;
        sleep(0s);
        counter = seen + 1;
        --inside;
      }
    }));
  }
  for (auto& task : tasks) ASSERT_TRUE(task->join(10s));
  EXPECT_EQ(counter, 200);
  EXPECT_EQ(max_inside, 1);
}

}  // namespace
}  // namespace evergreen
