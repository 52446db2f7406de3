// TaskGroup: join() waits for every task and rethrows the first failure after
// killing the others and waiting for them; kill(), size(), the destructor;
// from the main context and from tasks; nested groups.
#include "evergreen/loop/task_group.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/report.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;

// Records every report, so a test can tell what was (not) reported.
class TaskGroupTest : public testing::LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    set_report_handler([this](const Report& report) { reports.push_back(report.message); });
  }
  void TearDown() override {
    set_report_handler(nullptr);
    LoopTest::TearDown();
  }
  std::vector<std::string> reports;
};

TEST_F(TaskGroupTest, JoinFromTheMainContextWaitsForEveryTask) {
  TaskGroup group;
  std::vector<int> done;
  for (int i : {3, 1, 2}) {
    group.spawn(
        [&done](int n) {
          sleep(n * 2ms);
          done.push_back(n);
        },
        i);
  }
  EXPECT_EQ(group.size(), 3u);
  group.join();
  std::sort(done.begin(), done.end());  // the order they end in is the timers'
  EXPECT_EQ(done, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(group.size(), 0u);
}

TEST_F(TaskGroupTest, FirstFailureKillsTheOthersAndJoinRethrowsItAfterTheyUnwound) {
  TaskGroup group;
  bool sibling_unwound = false;
  auto sibling = group.spawn([&] {
    absl::Cleanup unwound = [&] { sibling_unwound = true; };
    sleep(60s);
  });
  group.spawn([] {
    sleep(1ms);
    throw std::logic_error("first failure");
  });
  try {
    group.join();
    ADD_FAILURE() << "join() returned normally";
  } catch (const std::logic_error& error) {
    EXPECT_STREQ(error.what(), "first failure");
    EXPECT_TRUE(sibling_unwound);
    EXPECT_FALSE(sibling->is_alive());
  }
  // Handed to join(), so not also reported.
  EXPECT_TRUE(reports.empty()) << reports.front();
}

TEST_F(TaskGroupTest, ALaterFailureIsReportedAndTheFirstIsRethrown) {
  TaskGroup group;
  group.spawn([] {
    try {
      sleep(60s);
    } catch (const TaskExit&) {
      throw std::runtime_error("second, while unwinding");
    }
  });
  group.spawn([] { throw std::invalid_argument("first"); });
  EXPECT_THROW(group.join(), std::invalid_argument);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("second, while unwinding"), std::string::npos) << reports[0];
}

TEST_F(TaskGroupTest, KillEndsEveryTaskAndTaskExitIsNotAFailure) {
  TaskGroup group;
  for (int i = 0; i < 3; ++i) group.spawn([] { sleep(60s); });
  sleep(1ms);
  EXPECT_EQ(group.size(), 3u);
  group.kill();
  group.join();  // no exception
  EXPECT_EQ(group.size(), 0u);
  EXPECT_TRUE(reports.empty());
}

TEST_F(TaskGroupTest, SizeCountsOnlyLiveTasks) {
  TaskGroup group;
  group.spawn([] {});
  group.spawn([] { sleep(60s); });
  EXPECT_EQ(group.size(), 2u);
  sleep(1ms);  // the first one ends
  EXPECT_EQ(group.size(), 1u);
  group.kill();
  group.join();
  EXPECT_EQ(group.size(), 0u);
}

TEST_F(TaskGroupTest, ManyShortTasksAreForgottenOnceEnded) {
  TaskGroup group;
  int ran = 0;
  for (int i = 0; i < 300; ++i) {
    group.spawn([&] { ++ran; });
    if (i % 50 == 0) sleep(0s);
  }
  group.join();
  EXPECT_EQ(ran, 300);
  EXPECT_EQ(group.size(), 0u);
}

TEST_F(TaskGroupTest, DestructorKillsAndWaitsForWhatStillRuns) {
  bool unwound = false;
  std::shared_ptr<Task> task;
  {
    TaskGroup group;
    task = group.spawn([&] {
      absl::Cleanup cleanup = [&] { unwound = true; };
      sleep(60s);
    });
    sleep(1ms);
  }
  EXPECT_TRUE(unwound);
  EXPECT_FALSE(task->is_alive());
}

TEST_F(TaskGroupTest, DestructorReportsAFailureNobodyJoined) {
  {
    TaskGroup group;
    group.spawn([] { throw std::logic_error("unjoined"); });
    sleep(1ms);
  }
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("std::logic_error: unjoined"), std::string::npos) << reports[0];
}

TEST_F(TaskGroupTest, JoinInsideATaskRethrowsThere) {
  std::string caught;
  auto owner = spawn([&] {
    TaskGroup group;
    group.spawn([] { throw std::runtime_error("in a task"); });
    group.spawn([] { sleep(60s); });
    try {
      group.join();
    } catch (const std::runtime_error& error) {
      caught = error.what();
    }
  });
  ASSERT_TRUE(owner->join(10s));
  EXPECT_EQ(caught, "in a task");
  EXPECT_TRUE(reports.empty());
}

TEST_F(TaskGroupTest, TaskSpawnedAfterAFailureNeverRuns) {
  TaskGroup group;
  group.spawn([] { throw std::runtime_error("failed"); });
  sleep(1ms);
  bool ran = false;
  group.spawn([&] { ran = true; });
  EXPECT_THROW(group.join(), std::runtime_error);
  EXPECT_FALSE(ran);
  // Rethrown once: the group is usable again.
  group.spawn([&] { ran = true; });
  group.join();
  EXPECT_TRUE(ran);
}

TEST_F(TaskGroupTest, JoinWaitsForTasksSpawnedWhileItWaits) {
  TaskGroup group;
  bool grandchild_done = false;
  group.spawn([&] {
    sleep(1ms);
    group.spawn([&] {
      sleep(2ms);
      grandchild_done = true;
    });
  });
  group.join();
  EXPECT_TRUE(grandchild_done);
}

TEST_F(TaskGroupTest, JoinFromATaskOfTheGroupThrowsLogicError) {
  TaskGroup group;
  std::string message;
  group.spawn([&] {
    try {
      group.join();
    } catch (const std::logic_error& error) {
      message = error.what();
    }
  });
  group.join();
  EXPECT_NE(message.find("belongs to the group"), std::string::npos) << message;
}

TEST_F(TaskGroupTest, ATimeoutOnTheJoinerLeavesTheGroupRunning) {
  TaskGroup group;
  bool finished = false;
  group.spawn([&] {
    sleep(20ms);
    finished = true;
  });
  EXPECT_THROW(
      {
        Timeout timeout(1ms);
        group.join();
      },
      Timeout);
  EXPECT_EQ(group.size(), 1u);
  group.join();
  EXPECT_TRUE(finished);
}

TEST_F(TaskGroupTest, NestedGroupFailurePropagatesOutward) {
  TaskGroup outer;
  bool inner_sibling_unwound = false;
  outer.spawn([&] {
    TaskGroup inner;
    inner.spawn([&] {
      absl::Cleanup cleanup = [&] { inner_sibling_unwound = true; };
      sleep(60s);
    });
    inner.spawn([] { throw std::out_of_range("deep"); });
    inner.join();
  });
  EXPECT_THROW(outer.join(), std::out_of_range);
  EXPECT_TRUE(inner_sibling_unwound);
  EXPECT_TRUE(reports.empty());
}

TEST_F(TaskGroupTest, KillingTheOuterGroupUnwindsTheInnerOne) {
  TaskGroup outer;
  int inner_unwound = 0;
  outer.spawn([&] {
    TaskGroup inner;
    for (int i = 0; i < 3; ++i) {
      inner.spawn([&] {
        absl::Cleanup cleanup = [&] { ++inner_unwound; };
        sleep(60s);
      });
    }
    inner.join();
  });
  sleep(1ms);
  outer.kill();
  outer.join();
  EXPECT_EQ(inner_unwound, 3);
}

// The destructor waits inside a CancellationShield: a second kill aimed at
// the destroying task while its children unwind slowly must not escape the
// destructor (that would be std::terminate).
TEST_F(TaskGroupTest, DestructorWaitingDuringAKillSurvivesASecondKill) {
  bool child_finished_unwinding = false;
  auto owner = spawn([&] {
    TaskGroup group;
    group.spawn([&] {
      try {
        sleep(60s);
      } catch (const TaskExit&) {
        sleep(20ms);  // a slow cleanup
        child_finished_unwinding = true;
        throw;
      }
    });
    group.join();
  });
  sleep(1ms);
  owner->kill();
  sleep(5ms);  // the owner is now in the group's destructor
  owner->kill();
  ASSERT_TRUE(owner->join(10s));
  EXPECT_TRUE(child_finished_unwinding);
}

TEST_F(TaskGroupTest, DestroyedByOneOfItsOwnTasksWaitsForTheOthersNotItself) {
  auto group = std::make_unique<TaskGroup>();
  bool other_unwound = false, destroyer_went_on = false;
  group->spawn([&] {
    absl::Cleanup cleanup = [&] { other_unwound = true; };
    sleep(60s);
  });
  auto destroyer = group->spawn([&] {
    sleep(1ms);
    group.reset();
    destroyer_went_on = true;
    sleep(60s);  // killed with the rest: TaskExit here
  });
  ASSERT_TRUE(destroyer->join(10s));
  EXPECT_TRUE(other_unwound);
  EXPECT_TRUE(destroyer_went_on);
}

TEST_F(TaskGroupTest, DestroyedInALoopCallbackKillsWithoutWaiting) {
  auto group = std::make_unique<TaskGroup>();
  bool unwound = false;
  auto task = group->spawn([&] {
    absl::Cleanup cleanup = [&] { unwound = true; };
    sleep(60s);
  });
  sleep(1ms);
  loop().call_soon([&] { group.reset(); });
  ASSERT_TRUE(task->join(10s));
  EXPECT_TRUE(unwound);
}

TEST_F(TaskGroupTest, AFailureAfterTheGroupWasDestroyedIsReportedByTheTask) {
  auto group = std::make_unique<TaskGroup>();
  auto task = group->spawn([] {
    try {
      sleep(60s);
    } catch (const TaskExit&) {
      sleep(5ms);  // outlives the group, destroyed in a callback
      throw std::runtime_error("after the group");
    }
  });
  sleep(1ms);
  loop().call_soon([&] { group.reset(); });
  ASSERT_TRUE(task->join(10s));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("after the group"), std::string::npos) << reports[0];
}

TEST_F(TaskGroupTest, JoinInALoopCallbackThrowsRuntimeError) {
  TaskGroup group;
  bool threw = false;
  loop().call_soon([&] {
    try {
      group.join();
    } catch (const std::runtime_error&) {
      threw = true;
    }
  });
  loop().run();
  EXPECT_TRUE(threw);
}

}  // namespace
}  // namespace evergreen
