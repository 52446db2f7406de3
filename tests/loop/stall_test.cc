// The stall detector: EventLoop::set_stall_threshold() and EVERGREEN_STALL_MS.
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/report.h"
#include "evergreen/loop/task.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"
#include "tests/loop/loop_fixture.h"

#if defined(__SANITIZE_THREAD__)
// TSan holds a signal back until the thread enters one of its interceptors,
// so a thread spinning in plain code may not answer the stack sample.
constexpr bool kStacksOfSpinningThreads = false;
#else
constexpr bool kStacksOfSpinningThreads = true;
#endif

// Outside any namespace and not inlined, so that their names show in a stack
// (the test links with -rdynamic). The empty asm keeps the loop a loop.
[[gnu::noinline]] void stall_test_spins_here(const std::atomic<bool>& stop) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!stop.load() && std::chrono::steady_clock::now() < give_up) asm volatile("" ::: "memory");
}

// An unpatched blocking call: the test does not link //patch. A signal may cut
// ::sleep short (that is what the stack sample does), so it sleeps again.
[[gnu::noinline]] void stall_test_sleeps_here(const std::atomic<bool>& stop) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!stop.load() && std::chrono::steady_clock::now() < give_up) ::sleep(1);
  asm volatile("" ::: "memory");
}

namespace evergreen {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using StallTest = testing::LoopTest;

// Collects the stall reports; `stalled` turns true at the first.
class StallReports {
 public:
  StallReports() {
    set_report_handler([this](const Report& report) {
      if (report.message.find("stall:") == std::string::npos) return;
      std::lock_guard<std::mutex> lock(mutex_);
      messages_.push_back(report.message);
      stalled.store(true);
    });
  }
  ~StallReports() { set_report_handler(nullptr); }

  std::vector<std::string> messages() {
    std::lock_guard<std::mutex> lock(mutex_);
    return messages_;
  }

  std::atomic<bool> stalled{false};

 private:
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

std::shared_ptr<Task> start(std::string name, absl::AnyInvocable<void()> body) {
  auto task = std::make_shared<Task>(std::move(body), std::move(name));
  task->start();
  return task;
}

TEST_F(StallTest, BusyTaskIsReportedOnceWhileItRuns) {
  StallReports reports;
  loop().set_stall_threshold(100ms);
  std::atomic<bool> keep_going_after_report{false};
  auto spinner = start("spinner", [&] {
    // Spins until the report arrives: it can only end early if the report
    // came while it ran. Then it spins for six more thresholds, which must not
    // bring a second report.
    stall_test_spins_here(reports.stalled);
    const auto more = std::chrono::steady_clock::now() + 600ms;
    while (std::chrono::steady_clock::now() < more) asm volatile("" ::: "memory");
    keep_going_after_report = true;
  });
  spinner->join();
  ASSERT_TRUE(reports.stalled.load()) << "no stall report within 20s";
  EXPECT_TRUE(keep_going_after_report.load());
  const std::vector<std::string> messages = reports.messages();
  ASSERT_EQ(messages.size(), 1u) << messages.back();
  std::cout << "the report: " << messages[0] << "\n";
  EXPECT_THAT(messages[0], HasSubstr("stall: task 'spinner'"));
  EXPECT_THAT(messages[0], HasSubstr("without yielding (threshold 0.100s)"));
  EXPECT_THAT(messages[0], HasSubstr("has run for 0."));
  if (kStacksOfSpinningThreads) {
    EXPECT_THAT(messages[0], HasSubstr("stall_test_spins_here"));
  }
}

TEST_F(StallTest, ADefaultNamedTaskIsReportedByItsNumberedName) {
  // Nothing reads the spawned task's name before the report: the sampler, in
  // a signal handler, formats "task-N" itself, without allocating.
  StallReports reports;
  loop().set_stall_threshold(100ms);
  auto spinner = spawn([&] { stall_test_spins_here(reports.stalled); });
  spinner->join();
  ASSERT_TRUE(reports.stalled.load()) << "no stall report within 20s";
  const std::vector<std::string> messages = reports.messages();
  ASSERT_FALSE(messages.empty());
  EXPECT_THAT(messages[0], HasSubstr("stall: task '" + spinner->name() + "'"));
  EXPECT_EQ(spinner->name().rfind("task-", 0), 0u) << spinner->name();
}

TEST_F(StallTest, TaskInUnpatchedSleepIsReportedWithTheCall) {
  StallReports reports;
  loop().set_stall_threshold(100ms);
  auto sleeper = start("sleeper", [&] { stall_test_sleeps_here(reports.stalled); });
  sleeper->join();
  ASSERT_TRUE(reports.stalled.load()) << "no stall report within 20s";
  const std::vector<std::string> messages = reports.messages();
  ASSERT_EQ(messages.size(), 1u);
  std::cout << "the report: " << messages[0] << "\n";
  EXPECT_THAT(messages[0], HasSubstr("stall: task 'sleeper'"));
  EXPECT_THAT(messages[0], HasSubstr("inside system call"));
  EXPECT_THAT(messages[0], HasSubstr("nanosleep"));  // sleep()'s system call
  EXPECT_THAT(messages[0], HasSubstr("stall_test_sleeps_here"));
}

TEST_F(StallTest, NothingIsReportedUnderTheThreshold) {
  StallReports reports;
  loop().set_stall_threshold(500ms);
  auto worker = start("worker", [&] {
    // Busy for 50ms at a time, yielding in between: 1s of work, no stall.
    for (int round = 0; round < 20; ++round) {
      const auto until = std::chrono::steady_clock::now() + 50ms;
      while (std::chrono::steady_clock::now() < until) asm volatile("" ::: "memory");
      sleep(0s);
    }
  });
  worker->join();
  sleep(300ms);  // idle in the poll: not a stall either
  EXPECT_TRUE(reports.messages().empty()) << reports.messages().front();
}

TEST_F(StallTest, TurnedOffReportsNothing) {
  StallReports reports;
  loop().set_stall_threshold(50ms);
  loop().set_stall_threshold(std::nullopt);
  auto spinner = start("spinner", [&] {
    const auto until = std::chrono::steady_clock::now() + 400ms;
    while (std::chrono::steady_clock::now() < until) asm volatile("" ::: "memory");
  });
  spinner->join();
  EXPECT_TRUE(reports.messages().empty()) << reports.messages().front();
}

TEST_F(StallTest, ThresholdMustBePositive) {
  EXPECT_THROW(loop().set_stall_threshold(0ms), std::invalid_argument);
  EXPECT_THROW(loop().set_stall_threshold(-5ms), std::invalid_argument);
}

// EVERGREEN_STALL_MS is read when a loop is created.
TEST(StallEnvironmentTest, EnvironmentVariableTurnsTheDetectorOn) {
  testing::destroy_this_threads_loop();
  setenv("EVERGREEN_STALL_MS", "100", 1);
  absl::Cleanup unset = [] { unsetenv("EVERGREEN_STALL_MS"); };
  StallReports reports;
  EventLoop loop;
  auto spinner = start("from-environment", [&] { stall_test_spins_here(reports.stalled); });
  spinner->join();
  ASSERT_TRUE(reports.stalled.load()) << "no stall report within 20s";
  EXPECT_THAT(reports.messages().at(0), HasSubstr("task 'from-environment'"));
  EXPECT_THAT(reports.messages().at(0), HasSubstr("threshold 0.100s"));
}

TEST(StallEnvironmentTest, BadEnvironmentValueNamesTheVariable) {
  testing::destroy_this_threads_loop();
  setenv("EVERGREEN_STALL_MS", "soon", 1);
  absl::Cleanup unset = [] { unsetenv("EVERGREEN_STALL_MS"); };
  try {
    EventLoop loop;
    FAIL() << "a loop was created with EVERGREEN_STALL_MS=soon";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("EVERGREEN_STALL_MS=\"soon\""));
  }
  // The failed loop left nothing behind: a new one can be made.
  unsetenv("EVERGREEN_STALL_MS");
  EventLoop loop;
}

}  // namespace
}  // namespace evergreen
