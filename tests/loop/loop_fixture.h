// A fresh event loop for each test: a loop runs once, so tests must not share.
#ifndef EVERGREEN_TESTS_LOOP_LOOP_FIXTURE_H_
#define EVERGREEN_TESTS_LOOP_LOOP_FIXTURE_H_

#include <optional>

#include "evergreen/loop/event_loop.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"

namespace evergreen::testing {

class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A test before may have left the main thread's on-demand loop behind.
    destroy_this_threads_loop();
    loop_.emplace();
  }
  void TearDown() override { loop_.reset(); }

  EventLoop& loop() { return *loop_; }

 private:
  std::optional<EventLoop> loop_;
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_LOOP_LOOP_FIXTURE_H_
