// The seeds' "small scripts" rule: code outside any task may block, and its
// first blocking call runs the main thread's loop, created on demand.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

class MainContextTest : public ::testing::Test {
 protected:
  void SetUp() override { reset(); }
  void TearDown() override { reset(); }
  static void reset() {
    testing::destroy_this_threads_loop();
  }
};

TEST_F(MainContextTest, BlockingInMainRunsTasksWithoutExplicitLoop) {
  std::vector<std::string> order;
  spawn([&] { order.push_back("task"); });
  order.push_back("main before sleep");
  sleep(1ms);
  order.push_back("main after sleep");
  EXPECT_EQ(order, (std::vector<std::string>{"main before sleep", "task", "main after sleep"}));
}

TEST_F(MainContextTest, MainYieldRunsReadyTasksFirst) {
  std::vector<int> order;
  spawn([&] { order.push_back(1); });
  spawn([&] { order.push_back(2); });
  sleep(0s);
  order.push_back(3);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST_F(MainContextTest, MainCanBlockRepeatedly) {
  int ticks = 0;
  spawn([&] {
    for (int i = 0; i < 3; ++i) {
      ++ticks;
      sleep(1ms);
    }
  });
  for (int i = 0; i < 5; ++i) sleep(2ms);
  EXPECT_EQ(ticks, 3);
}

TEST_F(MainContextTest, RunAfterImplicitStartFinishesRemainingWork) {
  bool late_done = false;
  spawn([&] {
    sleep(5ms);
    late_done = true;
  });
  sleep(0s);  // starts the loop implicitly
  EXPECT_FALSE(late_done);
  EventLoop::current().run();
  EXPECT_TRUE(late_done);
}

TEST_F(MainContextTest, BlockingForeverInMainIsAClearDeadlockError) {
  std::string message;
  try {
    EventLoop::current().switch_to();  // nothing can ever wake main
  } catch (const std::runtime_error& error) {
    message = error.what();
  }
  EXPECT_NE(message.find("deadlock"), std::string::npos) << message;
}

TEST_F(MainContextTest, DestroyThenCurrentCreatesAFreshLoop) {
  EventLoop* first = &EventLoop::current();
  sleep(0s);
  first->destroy();
  EventLoop& second = EventLoop::current();
  bool ran = false;
  spawn([&] { ran = true; });
  sleep(1ms);
  EXPECT_TRUE(ran);
  (void)second;
}

TEST_F(MainContextTest, DestroyUnwindsALoopSuspendedMidIteration) {
  bool cleaned = false;
  struct Guard {
    bool& flag;
    ~Guard() { flag = true; }
  };
  spawn([&] {
    Guard guard{cleaned};
    sleep(1h);
  });
  sleep(1ms);  // the loop is now suspended inside an iteration, main awake
  EventLoop::current().destroy();
  EXPECT_TRUE(cleaned);
}

TEST(MainContextExitTest, ProgramWhoseMainBlockedExitsNormallyAndKillsTasks) {
  EXPECT_EXIT(
      {
        struct Guard {
          ~Guard() { std::fputs("task cleaned up\n", stderr); }
        };
        spawn([] {
          Guard guard;
          sleep(1h);
        });
        sleep(1ms);
        std::exit(0);  // thread_local teardown destroys the on-demand loop
      },
      ::testing::ExitedWithCode(0), "task cleaned up");
}

}  // namespace
}  // namespace evergreen
