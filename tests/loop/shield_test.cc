// CancellationShield: kills and Timeouts are held back while a shield is
// alive and raised at the first suspension point after the last one ends.
#include "evergreen/loop/shield.h"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;
using testing::LoopTest;
using ShieldTest = LoopTest;

TEST_F(ShieldTest, KillInsideAShieldWaitsForItAndIsRaisedAtTheNextSuspensionPoint) {
  std::vector<std::string> steps;
  auto task = spawn([&] {
    try {
      {
        CancellationShield shield;
        sleep(30ms);  // the kill arrives meanwhile and does not interrupt it
        steps.push_back("slept in shield");
      }
      steps.push_back("after shield");  // no suspension yet: still running
      sleep(0s);
      steps.push_back("not reached");
    } catch (const TaskExit&) {
      steps.push_back("killed");
      throw;
    }
  });
  sleep(5ms);
  task->kill();
  ASSERT_TRUE(task->join(10s));
  EXPECT_EQ(steps, (std::vector<std::string>{"slept in shield", "after shield", "killed"}));
}

TEST_F(ShieldTest, TimeoutThatExpiresInsideFiresExactlyOnceAfterTheShield) {
  int raised = 0;
  bool slept_in_shield = false, fired_in_shield = false;
  auto task = spawn([&] {
    Timeout timeout(5ms);
    try {
      {
        CancellationShield shield;
        sleep(30ms);
        slept_in_shield = true;
        fired_in_shield = timeout.fired();
      }
      sleep(10s);
    } catch (const Timeout& fired) {
      if (fired.is(timeout)) ++raised;
    }
    sleep(20ms);  // not raised a second time
  });
  ASSERT_TRUE(task->join(10s));
  EXPECT_TRUE(slept_in_shield);
  EXPECT_TRUE(fired_in_shield);
  EXPECT_EQ(raised, 1);
}

TEST_F(ShieldTest, TimeoutCancelledInsideTheShieldIsNeverRaised) {
  bool completed = false;
  auto task = spawn([&] {
    Timeout timeout(2ms);
    {
      CancellationShield shield;
      sleep(20ms);
      timeout.cancel();
    }
    sleep(5ms);
    completed = true;
  });
  ASSERT_TRUE(task->join(10s));
  EXPECT_TRUE(completed);
}

TEST_F(ShieldTest, OnlyTheOutermostShieldReleases) {
  std::vector<std::string> steps;
  auto task = spawn([&] {
    try {
      CancellationShield outer;
      {
        CancellationShield inner;
        sleep(20ms);  // killed meanwhile
      }
      sleep(10ms);  // the inner shield's end released nothing
      steps.push_back("outer still shields");
    } catch (const TaskExit&) {
      steps.push_back("killed too early");
      throw;
    }
    try {
      sleep(0s);
    } catch (const TaskExit&) {
      steps.push_back("killed after the outer shield");
      throw;
    }
  });
  sleep(5ms);
  task->kill();
  ASSERT_TRUE(task->join(10s));
  EXPECT_EQ(steps,
            (std::vector<std::string>{"outer still shields", "killed after the outer shield"}));
}

TEST_F(ShieldTest, ADeliveryAlreadyPendingIsHeldBackToo) {
  bool slept = false, killed = false;
  auto task = spawn([&] {
    // As when a kill arrives in the turn a wait was satisfied: pending while
    // the task runs.
    internal::BlockingContext& self = internal::current_blocking_context();
    internal::deliver(self, std::make_exception_ptr(TaskExit{}));
    try {
      {
        CancellationShield shield;
        sleep(5ms);
        slept = true;
      }
      sleep(0s);
    } catch (const TaskExit&) {
      killed = true;
      throw;
    }
  });
  ASSERT_TRUE(task->join(10s));
  EXPECT_TRUE(slept);
  EXPECT_TRUE(killed);
}

TEST_F(ShieldTest, WorksInTheMainContext) {
  bool slept = false, timed_out = false;
  try {
    Timeout timeout(1ms);
    {
      CancellationShield shield;
      sleep(20ms);
      slept = true;
    }
    sleep(10s);
  } catch (const Timeout&) {
    timed_out = true;
  }
  EXPECT_TRUE(slept);
  EXPECT_TRUE(timed_out);
}

// The case shields exist for: a destructor that blocks while the task unwinds
// from a Timeout, with another Timeout expiring during that block. Without
// the shield the second delivery escapes the destructor: std::terminate.
struct Flusher {
  bool* flushed;
  ~Flusher() {
    CancellationShield shield;
    sleep(20ms);  // flushing a stream, say
    *flushed = true;
  }
};

TEST_F(ShieldTest, ADestructorThatBlocksWhileUnwindingIsSafeInsideAShield) {
  bool flushed = false, timed_out = false;
  auto task = spawn([&] {
    try {
      Timeout later(10ms);
      Timeout first(2ms);
      Flusher flusher{&flushed};
      sleep(10s);
    } catch (const Timeout&) {
      timed_out = true;
    }
  });
  ASSERT_TRUE(task->join(10s));
  EXPECT_TRUE(flushed);
  EXPECT_TRUE(timed_out);
}

TEST_F(ShieldTest, CreatingOneInALoopCallbackThrowsRuntimeError) {
  bool threw = false;
  loop().call_soon([&] {
    try {
      CancellationShield shield;
    } catch (const std::runtime_error&) {
      threw = true;
    }
  });
  loop().run();
  EXPECT_TRUE(threw);
}

}  // namespace
}  // namespace evergreen
