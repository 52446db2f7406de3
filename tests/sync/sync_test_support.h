// Shared by the sync tests: a fixture that gives every test a fresh event
// loop, and small helpers that keep tests bounded in time.
#ifndef EVERGREEN_TESTS_SYNC_SYNC_TEST_SUPPORT_H_
#define EVERGREEN_TESTS_SYNC_SYNC_TEST_SUPPORT_H_

#include <chrono>
#include <memory>
#include <thread>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"

namespace evergreen::testing {

using namespace std::chrono_literals;

// A loop runs once: each test blocks in the main context (which starts the
// main thread's loop on demand), and TearDown destroys that loop so the next
// test gets a fresh one. destroy() also kills tasks a failing test left
// blocked, so a broken primitive fails its test instead of hanging the suite.
class SyncTest : public ::testing::Test {
 protected:
  void TearDown() override { EventLoop::current().destroy(); }

  // Lets every task that is ready run `rounds` times (each sleep(0s) from the
  // main context yields one loop iteration).
  static void yield_rounds(int rounds = 3) {
    for (int i = 0; i < rounds; ++i) sleep(0s);
  }

  // Ends a task a test left blocked and waits (bounded) for it to go.
  static void kill_and_join(const std::shared_ptr<Task>& task) {
    task->kill();
    EXPECT_TRUE(task->join(5s)) << "task " << task->name() << " did not end after kill()";
  }

  // Stalls the whole thread (not just the task), so timers of the loop pass
  // their deadlines together: how tests put two events in one loop turn.
  static void stall_thread(Duration duration) { std::this_thread::sleep_for(duration); }
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_SYNC_SYNC_TEST_SUPPORT_H_
