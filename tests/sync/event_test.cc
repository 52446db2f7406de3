// Event: set/clear/wait, FIFO wake-up, timeouts, kill and Timeout while
// blocked, the main context and loop callbacks.
#include "evergreen/sync/event.h"

#include <chrono>
#include <stdexcept>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "sync_test_support.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using EventTest = testing::SyncTest;

TEST_F(EventTest, WaitReturnsAtOnceWhenSet) {
  Event event;
  EXPECT_FALSE(event.is_set());
  event.set();
  EXPECT_TRUE(event.is_set());
  EXPECT_TRUE(event.wait());
  EXPECT_TRUE(event.wait(0s));
}

TEST_F(EventTest, SetWakesEveryWaiterInTheOrderTheyBlocked) {
  Event event;
  std::vector<int> woken;
  std::vector<std::shared_ptr<Task>> waiters;
  for (int i = 0; i < 5; ++i) {
    waiters.push_back(spawn([&, i] {
      EXPECT_TRUE(event.wait());
      woken.push_back(i);
    }));
  }
  yield_rounds();
  EXPECT_TRUE(woken.empty());
  event.set();
  for (auto& waiter : waiters) ASSERT_TRUE(waiter->join(5s));
  EXPECT_EQ(woken, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(EventTest, WaitTimesOutWithFalse) {
  Event event;
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(event.wait(20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_FALSE(event.wait(0s));
  EXPECT_FALSE(event.wait(-1s));
}

TEST_F(EventTest, ClearMakesLaterWaitsBlock) {
  Event event;
  event.set();
  event.clear();
  EXPECT_FALSE(event.is_set());
  EXPECT_FALSE(event.wait(10ms));
}

TEST_F(EventTest, WaiterWokenBySetReturnsTrueEvenIfClearedBeforeItRuns) {
  Event event;
  bool result = false;
  auto waiter = spawn([&] { result = event.wait(5s); });
  yield_rounds();
  event.set();
  event.clear();  // before the waiter resumes
  ASSERT_TRUE(waiter->join(5s));
  EXPECT_TRUE(result);
}

TEST_F(EventTest, MainContextWaitsWhileATaskSets) {
  Event event;
  spawn([&] {
    sleep(1ms);
    event.set();
  });
  EXPECT_TRUE(event.wait(5s));
}

TEST_F(EventTest, KilledWaiterLeavesTheQueue) {
  Event event;
  bool returned = false;
  auto victim = spawn([&] {
    event.wait();
    returned = true;
  });
  int woken = 0;
  auto survivor = spawn([&] {
    event.wait();
    ++woken;
  });
  yield_rounds();
  victim->kill();
  ASSERT_TRUE(victim->join(5s));
  EXPECT_FALSE(returned);
  // The dead task must not be woken (that would resume a finished fiber).
  event.set();
  ASSERT_TRUE(survivor->join(5s));
  EXPECT_EQ(woken, 1);
}

TEST_F(EventTest, TimeoutWhileWaitingPropagatesAndLeavesTheQueue) {
  Event event;
  bool timed_out = false;
  auto waiter = spawn([&] {
    Timeout deadline(10ms);
    try {
      event.wait();
    } catch (const Timeout& fired) {
      timed_out = fired.is(deadline);
    }
  });
  ASSERT_TRUE(waiter->join(5s));
  EXPECT_TRUE(timed_out);
  event.set();  // nobody left to wake
  yield_rounds();
}

TEST_F(EventTest, SetWorksInALoopCallbackButBlockingWaitThrows) {
  Event event;
  bool wait_threw = false;
  EventLoop::current().call_soon([&] {
    try {
      event.wait();
    } catch (const std::runtime_error& error) {
      wait_threw = std::string(error.what()).find("callback") != std::string::npos;
    }
    event.set();
  });
  EXPECT_TRUE(event.wait(5s));
  EXPECT_TRUE(wait_threw);
}

}  // namespace
}  // namespace evergreen
