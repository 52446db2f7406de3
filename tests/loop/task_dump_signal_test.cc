// install_task_dump_handler(): a signal makes every loop of the process write
// its task dump to stderr, and the program goes on.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "evergreen/loop/debug.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

// Outside any namespace and not inlined, so that its name shows in a stack
// (the test links with -rdynamic). It calls sched_yield() so that the stack
// sample's signal reaches it even under TSan, which delivers signals in its
// interceptors.
[[gnu::noinline]] void dump_test_stuck_here(const std::atomic<bool>& release) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!release.load() && std::chrono::steady_clock::now() < give_up) sched_yield();
  asm volatile("" ::: "memory");
}

namespace evergreen {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using TaskDumpSignalTest = testing::LoopTest;

// Sends this process's stderr (fd 2) to a temporary file while it lives.
class StderrCapture {
 public:
  StderrCapture() {
    char path[] = "/tmp/evergreen_dump_XXXXXX";
    file_ = mkstemp(path);
    if (file_ < 0) throw std::runtime_error("mkstemp failed");
    unlink(path);
    saved_ = dup(2);
    dup2(file_, 2);
  }
  ~StderrCapture() {
    dup2(saved_, 2);
    close(saved_);
    close(file_);
  }
  std::string text() const {
    std::string text;
    char buffer[4096];
    for (off_t offset = 0;;) {
      const ssize_t got = pread(file_, buffer, sizeof buffer, offset);
      if (got <= 0) return text;
      text.append(buffer, static_cast<size_t>(got));
      offset += got;
    }
  }
  // Waits (on the loop, so this thread's loop can answer) for `wanted`.
  bool wait_for(const std::string& wanted) const {
    const auto give_up = std::chrono::steady_clock::now() + 15s;
    while (text().find(wanted) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= give_up) return false;
      sleep(10ms);
    }
    return true;
  }

 private:
  int file_ = -1;
  int saved_ = -1;
};

std::shared_ptr<Task> start(std::string name, absl::AnyInvocable<void()> body) {
  auto task = std::make_shared<Task>(std::move(body), std::move(name));
  task->start();
  return task;
}

TEST_F(TaskDumpSignalTest, DumpReachesStderrWhileTasksSleep) {
  install_task_dump_handler();  // SIGQUIT
  auto sleeper = start("sleeper", [] { sleep(60s); });
  sleep(10ms);  // the sleeper is parked
  std::string text;
  {
    StderrCapture capture;
    ASSERT_EQ(kill(getpid(), SIGQUIT), 0);
    const bool found = capture.wait_for("task 'sleeper' blocked on sleep for ");
    text = capture.text();
    ASSERT_TRUE(found) << "stderr: " << text;
  }
  std::cout << text;
  EXPECT_THAT(text, HasSubstr("evergreen: task dump of the loop on thread "));
  EXPECT_THAT(text, HasSubstr("evergreen: 1 task on this thread's loop"));
  // The program goes on: the loop still runs tasks.
  auto after = start("after", [] {});
  after->join();
  sleeper->kill();
}

TEST_F(TaskDumpSignalTest, StuckLoopIsReportedFromTheSignalThread) {
  install_task_dump_handler(SIGUSR2);
  std::atomic<bool> release{false};
  std::atomic<bool> spinning{false};
  std::thread other([&] {
    EventLoop loop;
    Task stuck(
        [&] {
          spinning = true;
          dump_test_stuck_here(release);
        },
        "stuck-spinner");
    stuck.start();
    stuck.join();
  });
  const auto give_up = std::chrono::steady_clock::now() + 15s;
  while (!spinning && std::chrono::steady_clock::now() < give_up) sleep(1ms);
  std::string text;
  bool found = false;
  {
    StderrCapture capture;
    ASSERT_EQ(kill(getpid(), SIGUSR2), 0);
    found = capture.wait_for("did not answer the task dump");
    // The report is one write: once its first line is there, so is the stack.
    sleep(100ms);
    text = capture.text();
  }
  release = true;
  other.join();
  ASSERT_TRUE(found) << "stderr: " << text;
  std::cout << text;
  EXPECT_THAT(text, HasSubstr("it runs task 'stuck-spinner'"));
  EXPECT_THAT(text, HasSubstr("dump_test_stuck_here"));
  // This thread's loop answered on its own thread.
  EXPECT_THAT(text, HasSubstr("evergreen: task dump of the loop on thread " +
                              std::to_string(gettid())));
}

TEST(TaskDumpHandlerTest, RefusesSignalsThatCannotServe) {
  EXPECT_THROW(install_task_dump_handler(SIGKILL), std::invalid_argument);
  EXPECT_THROW(install_task_dump_handler(SIGSEGV), std::invalid_argument);
  EXPECT_THROW(install_task_dump_handler(0), std::invalid_argument);
  EXPECT_THROW(install_task_dump_handler(SIGRTMAX - 2), std::invalid_argument);
  try {
    install_task_dump_handler(-3);
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("install_task_dump_handler(-3)"));
  }
}

}  // namespace
}  // namespace evergreen
