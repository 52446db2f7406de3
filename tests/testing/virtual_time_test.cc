// run_with_virtual_time(), wait_idle() and shuffle_seed (loop/testing.h): the
// clock, the order timers fire in, when the clock may move, what happens to
// tasks left running, the refusals, and seeded ready orders.
#include "evergreen/loop/testing.h"

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/sync/event.h"
#include "evergreen/sync/locks.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"
#include "tests/testing/watchdog.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::run_with_virtual_time;
using testing::TestOptions;
using testing::wait_idle;

class VirtualTimeTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::destroy_this_threads_loop(); }
  void TearDown() override { testing::destroy_this_threads_loop(); }
  testing::WallClockWatchdog watchdog_{"VirtualTimeTest"};
};

Duration since(TimePoint start) { return EventLoop::current().time() - start; }

TEST_F(VirtualTimeTest, StartsAtAFixedPointAndSleepJumpsToTheDeadline) {
  auto wall_start = std::chrono::steady_clock::now();
  run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    EXPECT_EQ(start.time_since_epoch(), 24h);
    sleep(1h);
    EXPECT_EQ(since(start), 1h);
    sleep(250ms);
    EXPECT_EQ(since(start), 1h + 250ms);
  });
  // An hour and a quarter of a second took no real hour.
  EXPECT_LT(std::chrono::steady_clock::now() - wall_start, 30s);
}

TEST_F(VirtualTimeTest, TimersFireInExactDeadlineOrder) {
  run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    std::vector<std::pair<std::string, Duration>> fired;
    auto record = [&](std::string name) {
      return [&fired, start, name = std::move(name)] { fired.emplace_back(name, since(start)); };
    };
    EventLoop& loop = EventLoop::current();
    loop.call_later(5s, record("later 5s"));
    loop.call_later(1s, record("later 1s (a)"));
    loop.call_at(start + 3s, record("at 3s"));
    loop.call_later(1s, record("later 1s (b)"));
    auto sleeper = spawn([&] {
      sleep(2s);
      fired.emplace_back("task slept 2s", since(start));
    });
    sleep(10s);
    std::vector<std::pair<std::string, Duration>> expected = {
        {"later 1s (a)", 1s}, {"later 1s (b)", 1s}, {"task slept 2s", 2s},
        {"at 3s", 3s},        {"later 5s", 5s},
    };
    EXPECT_EQ(fired, expected);
    EXPECT_EQ(since(start), 10s);
  });
}

TEST_F(VirtualTimeTest, TimeoutFiresAtItsVirtualDeadline) {
  run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    Event never;
    EXPECT_THROW(
        {
          Timeout timeout(30s);
          never.wait();
        },
        Timeout);
    EXPECT_EQ(since(start), 30s);
  });
}

TEST_F(VirtualTimeTest, ClockStaysWhileAnythingIsReady) {
  run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    bool sleeper_done = false;
    auto sleeper = spawn([&] {
      sleep(1ns);
      sleeper_done = true;
    });
    // The main context stays ready through a thousand yields: the sleeper's
    // nanosecond never comes.
    for (int i = 0; i < 1000; ++i) {
      sleep(0s);
      ASSERT_EQ(since(start), 0s);
    }
    EXPECT_FALSE(sleeper_done);
    sleeper->join();
    EXPECT_EQ(since(start), 1ns);
  });
}

TEST_F(VirtualTimeTest, TasksLeftRunningAreKilledWhenTheBodyReturns) {
  bool unwound = false, finished = false;
  run_with_virtual_time([&] {
    spawn([&] {
      absl::Cleanup note = [&] { unwound = true; };
      sleep(24h);
      finished = true;
    });
    sleep(1s);
  });
  EXPECT_TRUE(unwound);
  EXPECT_FALSE(finished);
  // The loop is gone with the body: the thread may have a new one.
  EXPECT_EQ(internal::Scheduler::for_this_thread(), nullptr);
}

TEST_F(VirtualTimeTest, RefusesAThreadThatAlreadyHasALoop) {
  EventLoop loop;
  try {
    run_with_virtual_time([] { ADD_FAILURE() << "the body ran"; });
    ADD_FAILURE() << "no exception";
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string(error.what()).find("already has an event loop"), std::string::npos)
        << error.what();
  }
}

TEST_F(VirtualTimeTest, ADeadlockThrowsTheDeadlockError) {
  try {
    run_with_virtual_time([] {
      Event never;
      auto waiter = spawn([&] { never.wait(); });
      waiter->join();
    });
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("deadlock"), std::string::npos) << error.what();
  }
  EXPECT_EQ(internal::Scheduler::for_this_thread(), nullptr);
}

TEST_F(VirtualTimeTest, TheRealClockIsBackAfterwards) {
  run_with_virtual_time([] { sleep(1000h); });
  EventLoop loop;
  auto real = std::chrono::steady_clock::now();
  EXPECT_LT(std::chrono::abs(loop.time() - real), 1h);
  loop.destroy();
}

TEST_F(VirtualTimeTest, WaitIdleReturnsOnceEveryOtherTaskIsBlocked) {
  run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    Event go;
    Lock lock;
    lock.acquire();
    int blocked = 0, done = 0;
    std::vector<std::shared_ptr<Task>> tasks;
    for (int i = 0; i < 3; ++i) {
      tasks.push_back(spawn([&, i] {
        for (int step = 0; step < 10 * (i + 1); ++step) sleep(0s);  // busy for a while
        ++blocked;
        if (i == 0) {
          lock.acquire();
          lock.release();
        } else if (i == 1) {
          go.wait();
        } else {
          sleep(1h);
        }
        ++done;
      }));
    }
    wait_idle();
    EXPECT_EQ(blocked, 3);
    EXPECT_EQ(done, 0);
    EXPECT_EQ(since(start), 0s);  // waiting for idleness moves no clock
    lock.release();
    go.set();
    wait_idle();
    EXPECT_EQ(done, 2);  // the sleeper still sleeps
    EXPECT_EQ(since(start), 0s);
    tasks[2]->join();
    EXPECT_EQ(since(start), 1h);
  });
}

TEST_F(VirtualTimeTest, WaitIdleWithNothingElseReturnsAtOnce) {
  run_with_virtual_time([] {
    wait_idle();
    wait_idle();
  });
}

TEST_F(VirtualTimeTest, WaitIdleOutsideVirtualTimeIsRefused) {
  EXPECT_THROW(wait_idle(), std::logic_error);
  EventLoop loop;
  EXPECT_THROW(wait_idle(), std::logic_error);
  loop.destroy();
}

TEST_F(VirtualTimeTest, OneWaitIdleAtATime) {
  run_with_virtual_time([] {
    auto first = spawn([] { wait_idle(); });
    sleep(0s);  // the task is inside wait_idle() now
    EXPECT_THROW(wait_idle(), std::logic_error);
    first->join();
  });
}

// The order in which 8 tasks and 8 callbacks, all ready in one turn, run.
std::vector<int> ready_order(std::optional<uint64_t> seed) {
  std::vector<int> order;
  run_with_virtual_time(
      [&] {
        std::vector<std::shared_ptr<Task>> tasks;
        for (int i = 0; i < 8; ++i) {
          tasks.push_back(spawn([&order, i] { order.push_back(i); }));
          EventLoop::current().call_soon([&order, i] { order.push_back(100 + i); });
        }
        for (auto& task : tasks) task->join();
      },
      TestOptions{.shuffle_seed = seed});
  return order;
}

TEST_F(VirtualTimeTest, WithoutASeedReadyEntriesRunFifo) {
  std::vector<int> expected;
  for (int i = 0; i < 8; ++i) {
    expected.push_back(i);
    expected.push_back(100 + i);
  }
  EXPECT_EQ(ready_order(std::nullopt), expected);
}

TEST_F(VirtualTimeTest, ASeedGivesTheSameOrderEveryTimeAndSeedsDiffer) {
  std::set<std::vector<int>> orders;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::vector<int> order = ready_order(seed);
    EXPECT_EQ(order.size(), 16u);
    EXPECT_EQ(ready_order(seed), order) << "seed " << seed;
    orders.insert(order);
  }
  // 16! orders: twenty seeds all drawing the same one would mean no shuffle.
  EXPECT_GT(orders.size(), 10u);
}

TEST_F(VirtualTimeTest, TheSeedIsPrintedWhenTheBodyFails) {
  ::testing::internal::CaptureStderr();
  EXPECT_THROW(run_with_virtual_time([] { throw std::runtime_error("boom"); },
                                     TestOptions{.shuffle_seed = 987654321}),
               std::runtime_error);
  std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(printed.find("shuffle_seed=987654321"), std::string::npos) << printed;
}

}  // namespace
}  // namespace evergreen
