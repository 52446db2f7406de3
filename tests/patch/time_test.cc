// Patched sleep/usleep/nanosleep: in tasks they interleave; outside tasks they
// block the thread as usual.
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <vector>

#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"
#include "patch_test_support.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::PatchedTest;
using testing::Stopwatch;

class TimeTest : public PatchedTest {};

TEST_F(TimeTest, SleepsInTasksInterleave) {
  std::vector<int> finished;
  Stopwatch stopwatch;
  for (int i = 0; i < 10; ++i) {
    spawn([&finished, i] {
      EXPECT_EQ(::usleep(200'000), 0);
      finished.push_back(i);
    });
  }
  loop().run();
  // Ten 200 ms sleeps in 10 tasks overlap: about 200 ms, not 2 s.
  EXPECT_LT(stopwatch.seconds(), 1.0);
  EXPECT_GE(stopwatch.elapsed(), 200ms);
  EXPECT_EQ(finished.size(), 10u);
}

TEST_F(TimeTest, SleepSecondsAndNanosleepInTasks) {
  Stopwatch stopwatch;
  unsigned int left = 99;
  int nanosleep_result = -1;
  spawn([&] { left = ::sleep(1); });
  spawn([&] {
    timespec duration{1, 0};
    nanosleep_result = ::nanosleep(&duration, nullptr);
  });
  int ticks = 0;
  spawn([&] {
    for (int i = 0; i < 10; ++i) {
      ::usleep(50'000);
      ++ticks;
    }
  });
  loop().run();
  EXPECT_EQ(left, 0u);
  EXPECT_EQ(nanosleep_result, 0);
  EXPECT_EQ(ticks, 10);
  EXPECT_LT(stopwatch.seconds(), 1.8);
  EXPECT_GE(stopwatch.elapsed(), 1s);
}

TEST_F(TimeTest, OutsideTasksSleepBlocksTheThread) {
  bool task_ran = false;
  spawn([&] { task_ran = true; });
  Stopwatch stopwatch;
  // The main context is not a task: the call blocks the thread, so the
  // spawned task cannot run meanwhile.
  EXPECT_EQ(::usleep(100'000), 0);
  EXPECT_GE(stopwatch.elapsed(), 100ms);
  EXPECT_FALSE(task_ran);
  loop().run();
  EXPECT_TRUE(task_ran);
}

TEST_F(TimeTest, ZeroSleepYieldsToOtherTasks) {
  std::vector<int> order;
  spawn([&] {
    order.push_back(1);
    ::usleep(0);
    order.push_back(3);
  });
  spawn([&] { order.push_back(2); });
  loop().run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST_F(TimeTest, InvalidNanosleepFailsLikeLibc) {
  int result = 0, error = 0;
  spawn([&] {
    timespec bad{0, 2'000'000'000};
    result = ::nanosleep(&bad, nullptr);
    error = errno;
  });
  loop().run();
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, EINVAL);
  timespec bad{-1, 0};
  EXPECT_EQ(::nanosleep(&bad, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(TimeTest, KillInterruptsSleepOnceAndIsRaisedAtTheNextSuspensionPoint) {
  int first = 0, first_errno = 0, second = -1;
  bool reached_end = false;
  auto victim = spawn([&] {
    first = ::usleep(10'000'000);
    first_errno = errno;
    // A library retrying on EINTR waits normally (no spin) on the retry...
    second = ::usleep(20'000);
    // ...and the kill is raised at evergreen's next suspension point.
    sleep(1s);
    reached_end = true;
  });
  spawn([&] {
    sleep(20ms);
    victim->kill();
  });
  Stopwatch stopwatch;
  loop().run();
  EXPECT_LT(stopwatch.seconds(), 1.0);
  EXPECT_EQ(first, -1);
  EXPECT_EQ(first_errno, EINTR);
  EXPECT_EQ(second, 0);
  EXPECT_FALSE(reached_end);
}

TEST_F(TimeTest, TimeoutCutsANanosleepShortWithTimeLeft) {
  timespec remaining{};
  int result = 0;
  bool fired = false;
  spawn([&] {
    Timeout timeout(50ms);
    timespec duration{2, 0};
    result = ::nanosleep(&duration, &remaining);
    fired = timeout.fired();
  });
  loop().run();
  EXPECT_EQ(result, -1);
  EXPECT_TRUE(fired);
  EXPECT_EQ(remaining.tv_sec, 1);  // about 1.95 s were left
}

TEST_F(TimeTest, ErrnoSurvivesTaskSwitches) {
  int seen = 0;
  spawn([&] {
    errno = 1234;
    ::usleep(20'000);
    seen = errno;
  });
  spawn([&] {
    errno = 5;
    ::usleep(10'000);
    errno = 6;
  });
  loop().run();
  EXPECT_EQ(seen, 1234);
}

TEST_F(TimeTest, LibTimeIsCooperativeToo) {
  Stopwatch stopwatch;
  for (int i = 0; i < 5; ++i) spawn([] { lib::time::usleep(200'000); });
  loop().run();
  EXPECT_LT(stopwatch.seconds(), 0.6);  // one after another: 1 s
}

}  // namespace
}  // namespace evergreen
