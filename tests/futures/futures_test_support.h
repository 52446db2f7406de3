// Shared by the futures tests: a fixture giving every test a fresh event loop,
// and a Gate to hold a call until the test lets it go.
#ifndef EVERGREEN_TESTS_FUTURES_FUTURES_TEST_SUPPORT_H_
#define EVERGREEN_TESTS_FUTURES_FUTURES_TEST_SUPPORT_H_

#include <chrono>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/wait_queue.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"

namespace evergreen::testing {

using namespace std::chrono_literals;

// A loop runs once: each test blocks in the main context (which starts the
// main thread's on-demand loop), and TearDown destroys that loop so the next
// test gets a fresh one. destroy() also kills tasks a failing test left
// blocked, so a broken executor fails its test instead of hanging the suite.
class FuturesTest : public ::testing::Test {
 protected:
  void TearDown() override { EventLoop::current().destroy(); }

  // Lets every ready task run `rounds` times.
  static void yield_rounds(int rounds = 3) {
    for (int i = 0; i < rounds; ++i) sleep(0s);
  }

  static std::chrono::steady_clock::time_point now() { return std::chrono::steady_clock::now(); }
};

// Holds the tasks that wait() on it until open(). Single-loop.
class Gate {
 public:
  void open() {
    open_ = true;
    waiters_.notify_all();
  }
  void wait() {
    while (!open_) waiters_.wait("Gate::wait");
  }
  bool is_open() const { return open_; }

 private:
  bool open_ = false;
  internal::WaitQueue waiters_;
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_FUTURES_FUTURES_TEST_SUPPORT_H_
