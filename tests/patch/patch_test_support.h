// What the //patch tests share: a fresh, patched event loop per test, a
// stopwatch, and a watchdog that turns a hang into a prompt failure.
#ifndef EVERGREEN_TESTS_PATCH_PATCH_TEST_SUPPORT_H_
#define EVERGREEN_TESTS_PATCH_PATCH_TEST_SUPPORT_H_

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/patch/patch.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"

namespace evergreen::testing {

// Ends the process with a message if not destroyed within `limit`: a broken
// implementation must fail, not hang the test run. Child processes started
// by a test die with it (they are started with PR_SET_PDEATHSIG).
class Watchdog {
 public:
  explicit Watchdog(std::chrono::seconds limit, std::string what)
      : what_(std::move(what)), thread_([this, limit] { watch(limit); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

 private:
  void watch(std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!changed_.wait_for(lock, limit, [this] { return done_; })) {
      std::fprintf(stderr, "watchdog: '%s' still running after %lld s: failing the test\n",
                   what_.c_str(), static_cast<long long>(limit.count()));
      std::fflush(stderr);
      _exit(3);
    }
  }

  std::string what_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool done_ = false;
  std::thread thread_;
};

// Upper bounds on elapsed time are multiplied by this. ThreadSanitizer makes
// creating a task's fiber cost milliseconds (it sets up a thread context per
// fiber), so a test that spawns a hundred tasks needs seconds more; the bounds
// still prove overlap (one after another would take far longer).
#ifdef EVERGREEN_TSAN
inline constexpr double kTimingSlack = 4.0;
#else
inline constexpr double kTimingSlack = 1.0;
#endif

// Whether a Timeout kept pending by an interrupted C call is raised at the
// task's next suspension point: sleeps up to 10 s and reports whether a
// Timeout ended the sleep.
inline bool timeout_raised_at_next_suspension() {
  try {
    sleep(std::chrono::seconds(10));
    return false;
  } catch (const Timeout&) {
    return true;
  }
}

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  Duration elapsed() const { return std::chrono::steady_clock::now() - start_; }
  double seconds() const { return std::chrono::duration<double>(elapsed()).count(); }

 private:
  TimePoint start_;
};

// Each test gets a fresh loop (a loop runs once) and a patched process
// (patching is process-wide and one-way, so every test of a patched binary
// sees it).
class PatchedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    patch::patch();
    destroy_this_threads_loop();
    loop_.emplace();
    watchdog_.emplace(std::chrono::seconds(30),
                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override {
    loop_.reset();
    watchdog_.reset();
  }

  EventLoop& loop() { return *loop_; }

 private:
  std::optional<EventLoop> loop_;
  std::optional<Watchdog> watchdog_;
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_PATCH_PATCH_TEST_SUPPORT_H_
