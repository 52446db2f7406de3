#include "evergreen/loop/task.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/wait_queue.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::LoopTest;

TEST_F(LoopTest, JoinerWithoutAReferenceSurvivesTheTaskBeingFreed) {
  // The joiner holds only a raw pointer and the last owner lets go while it
  // waits: join() must not read the task after it was freed (ASan catches it).
  std::shared_ptr<Task> target = spawn([] { sleep(1ms); });
  Task* raw = target.get();
  bool ended = false;
  std::shared_ptr<Task> joiner = spawn([raw, &ended] { ended = raw->join(); });
  sleep(0s);  // both start; the joiner waits
  target.reset();
  joiner->join();
  EXPECT_TRUE(ended);
}

TEST_F(LoopTest, ThreeTasksYieldingOnceRunInterleaved) {
  std::vector<int> order;
  for (int id = 1; id <= 3; ++id) {
    spawn([&order, id] {
      order.push_back(id);
      sleep(0s);
      order.push_back(id);
    });
  }
  loop().run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 1, 2, 3}));
}

TEST_F(LoopTest, SpawnPassesArgumentsIncludingMoveOnly) {
  int seen = 0;
  auto task = spawn([&seen](std::unique_ptr<int> value, int extra) { seen = *value + extra; },
                    std::make_unique<int>(40), 2);
  loop().run();
  EXPECT_EQ(seen, 42);
  EXPECT_FALSE(task->is_alive());
}

TEST_F(LoopTest, TaskDecoratorSpawns) {
  std::vector<int> got;
  auto add = task([&got](int x) { got.push_back(x); });
  auto first = add(1);
  auto second = add(2);
  loop().run();
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
  EXPECT_FALSE(first->is_alive());
}

class CountingTask : public Task {
 public:
  int runs = 0;

 protected:
  void run() override { ++runs; }
};

TEST_F(LoopTest, SubclassOverridesRun) {
  CountingTask counting;
  counting.start();
  EXPECT_TRUE(counting.is_alive());
  loop().run();
  EXPECT_EQ(counting.runs, 1);
  EXPECT_FALSE(counting.is_alive());
}

TEST_F(LoopTest, StackOwnedTaskJoinedFromMainContext) {
  int value = 0;
  Task worker(
      [&] {
        sleep(1ms);
        value = 7;
      },
      "worker");
  EXPECT_EQ(worker.name(), "worker");
  worker.start();
  EXPECT_TRUE(worker.join());  // the main context's first blocking call runs the loop
  EXPECT_EQ(value, 7);
}

TEST_F(LoopTest, StartWithABadStackSizeThrowsAndLeavesTheTaskUnstarted) {
  auto task = std::make_shared<Task>([] {}, "tiny", /*stack_size=*/1);
  std::weak_ptr<Task> watch = task;
  EXPECT_THROW(task->start(), std::invalid_argument);
  EXPECT_FALSE(task->is_alive());
  EXPECT_THROW(task->join(), std::runtime_error);  // never started
  task.reset();
  EXPECT_TRUE(watch.expired()) << "the failed start left the task owning itself";
}

TEST_F(LoopTest, UnnamedTasksGetDistinctNames) {
  Task a([] {}), b([] {});
  EXPECT_FALSE(a.name().empty());
  EXPECT_NE(a.name(), b.name());
  // "task-N", numbered in creation order.
  ASSERT_EQ(a.name().rfind("task-", 0), 0u) << a.name();
  ASSERT_EQ(b.name().rfind("task-", 0), 0u) << b.name();
  EXPECT_EQ(std::stoull(b.name().substr(5)), std::stoull(a.name().substr(5)) + 1);
}

TEST_F(LoopTest, SpawnedTasksShareTheNumberingAndRunTheirArguments) {
  Task constructed([] {});
  std::string seen;
  std::shared_ptr<Task> spawned =
      spawn([&seen](std::string word, int count) { seen = word + std::to_string(count); },
            std::string("move-me"), 3);
  ASSERT_EQ(spawned->name().rfind("task-", 0), 0u) << spawned->name();
  EXPECT_EQ(std::stoull(spawned->name().substr(5)), std::stoull(constructed.name().substr(5)) + 1);
  spawned->join();
  EXPECT_EQ(seen, "move-me3");
}

TEST_F(LoopTest, StartTwiceThrows) {
  Task worker([] {});
  worker.start();
  EXPECT_THROW(worker.start(), std::runtime_error);
  loop().run();
}

TEST_F(LoopTest, JoinBeforeStartThrows) {
  Task worker([] {});
  EXPECT_THROW(worker.join(), std::runtime_error);
}

TEST_F(LoopTest, JoinSelfThrows) {
  bool threw = false;
  auto self = std::make_shared<Task>([&] {
    try {
      Task::current()->join();
    } catch (const std::runtime_error&) {
      threw = true;
    }
  });
  self->start();
  loop().run();
  EXPECT_TRUE(threw);
}

TEST_F(LoopTest, JoinWithTimeoutReturnsFalseThenTrue) {
  std::vector<bool> results;
  // 500 ms, not less: a loaded sanitizer build once stalled past a 50 ms
  // sleep before the 5 ms join timed out.
  auto sleeper = spawn([] { sleep(500ms); });
  spawn([&] {
    results.push_back(sleeper->join(5ms));
    results.push_back(sleeper->join(5s));
  });
  loop().run();
  EXPECT_EQ(results, (std::vector<bool>{false, true}));
}

TEST_F(LoopTest, CurrentIsTheRunningTask) {
  Task* seen = nullptr;
  auto task = spawn([&] { seen = Task::current(); });
  EXPECT_EQ(Task::current(), nullptr);
  loop().run();
  EXPECT_EQ(seen, task.get());
}

TEST_F(LoopTest, KillBeforeStartNeverRunsBody) {
  bool ran = false;
  Task never([&] { ran = true; });
  never.kill();
  never.start();
  loop().run();
  EXPECT_FALSE(ran);
  EXPECT_FALSE(never.is_alive());
}

TEST_F(LoopTest, KillAfterSpawnBeforeFirstRunNeverRunsBody) {
  bool ran = false;
  auto task = spawn([&] { ran = true; });
  task->kill();
  loop().run();
  EXPECT_FALSE(ran);
  EXPECT_FALSE(task->is_alive());
}

struct SetOnDestroy {
  explicit SetOnDestroy(bool& flag) : flag(flag) {}
  ~SetOnDestroy() { flag = true; }
  bool& flag;
};

TEST_F(LoopTest, KillWhileRunningStopsAtSuspensionPointAndRunsDestructors) {
  bool destroyed = false, after_sleep = false, caught_by_std_exception = false;
  auto victim = spawn([&] {
    SetOnDestroy guard(destroyed);
    try {
      sleep(10s);
      after_sleep = true;
    } catch (const std::exception&) {
      caught_by_std_exception = true;  // TaskExit must not be swallowed here
    }
  });
  spawn([&] {
    sleep(1ms);
    victim->kill();
  });
  loop().run();
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(after_sleep);
  EXPECT_FALSE(caught_by_std_exception);
  EXPECT_FALSE(victim->is_alive());
}

TEST_F(LoopTest, KillIsDeliveredAfterAlreadyQueuedWork) {
  std::vector<std::string> order;
  auto victim = spawn([&] {
    try {
      sleep(10s);
    } catch (const TaskExit&) {
      order.push_back("killed");
      throw;
    }
  });
  spawn([&] {
    sleep(0s);  // let the victim block
    loop().call_soon([&] { order.push_back("queued first"); });
    victim->kill();
  });
  loop().run();
  EXPECT_EQ(order, (std::vector<std::string>{"queued first", "killed"}));
}

TEST_F(LoopTest, KillWithCustomException) {
  std::string caught;
  auto victim = spawn([&] {
    try {
      sleep(10s);
    } catch (const std::runtime_error& error) {
      caught = error.what();
    }
  });
  spawn([&] { victim->kill(std::make_exception_ptr(std::runtime_error("custom stop"))); });
  loop().run();
  EXPECT_EQ(caught, "custom stop");
}

TEST_F(LoopTest, KillingAnEndedTaskDoesNothing) {
  auto done = spawn([] {});
  // Kills once `done` has really ended (join), not after a time.
  spawn([&] {
    done->join();
    done->kill();
  });
  loop().run();
  EXPECT_FALSE(done->is_alive());
}

TEST_F(LoopTest, ExceptionEscapingTaskIsReportedWithItsNameAndEndsOnlyIt) {
  bool other_finished = false;
  auto failing =
      std::make_shared<Task>([] { throw std::runtime_error("task went wrong"); }, "failing-task");
  failing->start();
  spawn([&] {
    sleep(1ms);
    other_finished = true;
  });
  ::testing::internal::CaptureStderr();
  loop().run();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(other_finished);
  EXPECT_NE(err.find("failing-task"), std::string::npos) << err;
  EXPECT_NE(err.find("task went wrong"), std::string::npos) << err;
}

TEST_F(LoopTest, TaskExitEndsTaskQuietly) {
  ::testing::internal::CaptureStderr();
  spawn([] { throw TaskExit{}; });
  loop().run();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(LoopTest, BlockingInsideACallbackThrows) {
  std::string message;
  loop().call_soon([&] {
    try {
      sleep(1ms);
    } catch (const std::runtime_error& error) {
      message = error.what();
    }
  });
  loop().run();
  EXPECT_NE(message.find("callback"), std::string::npos) << message;
}

TEST_F(LoopTest, RunReturnsWhileATaskIsBlockedForever) {
  bool reached = false;
  spawn([&] {
    reached = true;
    EventLoop::current().switch_to();  // nothing will ever wake it
  });
  loop().run();
  EXPECT_TRUE(reached);
}

TEST_F(LoopTest, SwitchToIsWokenByKill) {
  bool killed = false;
  auto parked = spawn([&] {
    try {
      EventLoop::current().switch_to();
    } catch (const TaskExit&) {
      killed = true;
    }
  });
  spawn([&] { parked->kill(); });
  loop().run();
  EXPECT_TRUE(killed);
}

TEST_F(LoopTest, SwitchToRaisesADeliveryLeftPendingByAWaitThatWasNotified) {
  // In one timer batch the wait is notified first, then the Timeout fires: the
  // notification wins, so wait() returns normally and the Timeout stays
  // pending. The next suspension point must raise it at once - nothing else
  // would ever wake the task.
  internal::WaitQueue queue;
  bool notified = false, raised = false, resumed = false;
  spawn([&] {
    try {
      Timeout timeout(20ms);
      loop().call_later(10ms, [&] { queue.notify_all(); });
      notified = queue.wait("test");
      EventLoop::current().switch_to();
      resumed = true;
    } catch (const Timeout&) {
      raised = true;
    }
  });
  // Keeps the loop busy past both deadlines, so they fire in the same batch.
  spawn([] { std::this_thread::sleep_for(40ms); });
  loop().run();
  EXPECT_TRUE(notified);
  EXPECT_TRUE(raised);
  EXPECT_FALSE(resumed);
}

TEST_F(LoopTest, DestroyKillsLiveTasksAndRunsTheirDestructors) {
  bool destroyed = false, started = false, never_started_ran = false;
  spawn([&] {
    SetOnDestroy guard(destroyed);
    started = true;
    // Stops once this task is running (not after a time): on a slow machine
    // it might not have started by any fixed deadline.
    loop().call_soon([&] { loop().stop(); });
    sleep(1h);
  });
  loop().run();
  spawn([&] { never_started_ran = true; });
  ASSERT_TRUE(started);
  loop().destroy();
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(never_started_ran);
}

TEST_F(LoopTest, DestroyKillsTasksInStartOrderAndEndsTasksSpawnedWhileUnwinding) {
  std::vector<int> unwound;
  bool spawned_ran = false;
  std::vector<std::shared_ptr<Task>> tasks;
  std::function<void()> end_two_then_start_more;
  for (int i = 0; i < 6; ++i) {
    tasks.push_back(spawn([&, i] {
      struct RecordUnwind {
        ~RecordUnwind() {
          unwound.push_back(i);
          // A task started during destroy() must end too, without running.
          if (i == 2) spawn([&] { spawned_ran = true; });
        }
        std::vector<int>& unwound;
        bool& spawned_ran;
        int i;
      } record{unwound, spawned_ran, i};
      // Tasks start in spawn order, so once the last one runs all six have
      // started: the kills below wait for that event, not for a time (under
      // TSan a fiber takes milliseconds to set up).
      if (i == 5) loop().call_soon([&] { end_two_then_start_more(); });
      sleep(1h);
    }));
  }
  // End tasks 1 and 4 early, so that their registry slots are reused by the
  // tasks started next: start order must still decide. Each step waits for
  // the one before it (not for a time), so a slow machine changes nothing.
  int checks_left = 10'000;  // a broken kill fails the ASSERT below, not hangs
  std::function<void()> start_more_once_ended = [&] {
    if (unwound.size() < 2 && --checks_left > 0) {
      loop().call_soon([&] { start_more_once_ended(); });
      return;
    }
    for (int i = 6; i < 8; ++i) {
      tasks.push_back(spawn([&, i] {
        struct RecordUnwind {
          ~RecordUnwind() { unwound.push_back(i); }
          std::vector<int>& unwound;
          int i;
        } record{unwound, i};
        sleep(1h);
      }));
    }
    // Queued behind the new tasks, so it runs once they are asleep.
    loop().call_soon([&] { loop().stop(); });
  };
  end_two_then_start_more = [&] {
    tasks[1]->kill();
    tasks[4]->kill();
    start_more_once_ended();
  };
  loop().run();
  // EXPECT, not ASSERT: destroy() must still run on failure, or the tasks
  // would unwind into this frame's locals after they are gone.
  EXPECT_EQ(unwound, (std::vector<int>{1, 4}));
  loop().destroy();
  EXPECT_EQ(unwound, (std::vector<int>{1, 4, 0, 2, 3, 5, 6, 7}));
  EXPECT_FALSE(spawned_ran);
  for (auto& task : tasks) EXPECT_FALSE(task->is_alive());
}

TEST_F(LoopTest, ManyTasksSpawnAndJoin) {
#ifdef EVERGREEN_TSAN
  constexpr int kTasks = 1000;  // TSan sets up a thread context per fiber: ~ms each
#else
  constexpr int kTasks = 20000;
#endif
  int finished = 0;
  std::vector<std::shared_ptr<Task>> tasks;
  tasks.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    tasks.push_back(spawn([&finished] {
      sleep(0s);
      ++finished;
    }));
  }
  for (auto& task : tasks) EXPECT_TRUE(task->join());
  EXPECT_EQ(finished, kTasks);
}

using TaskDeathTest = LoopTest;

// Deep enough to overflow any task's stack; the bound is read at run time so
// the compiler cannot prove the recursion endless.
volatile size_t descent_limit = SIZE_MAX;

__attribute__((noinline)) size_t descend(size_t depth) {
  volatile char frame[512];
  frame[depth % sizeof frame] = 1;
  return depth >= descent_limit ? 0 : descend(depth + 1) + frame[0];
}

TEST_F(TaskDeathTest, AStackOverflowNamesTheTask) {
  // The loop names a task's fiber by the task's own name, which the overflow
  // report reads. (Under ASan its own report may end the process first.)
  EXPECT_DEATH(
      {
        Task task([] { descend(0); }, "deep-task", 64 * 1024);
        task.start();
        task.join();
      },
      "stack overflow in fiber 'deep-task'|AddressSanitizer: (stack-overflow|SEGV)");
}

TEST_F(TaskDeathTest, DestroyWithATaskThatKeepsCatchingTaskExitIsFatal) {
  EXPECT_DEATH(
      {
        auto stubborn = std::make_shared<Task>(
            [] {
              // Stops the loop once this task runs, not after a time: on a
              // slow machine it might not have started by any deadline.
              EventLoop::current().call_soon([] { EventLoop::current().stop(); });
              for (;;) {
                try {
                  sleep(1h);
                } catch (const TaskExit&) {
                }
              }
            },
            "stubborn");
        stubborn->start();
        loop().run();
        loop().destroy();
      },
      "task 'stubborn' kept blocking while its event loop was destroyed");
}

TEST_F(TaskDeathTest, DestroyingALiveTaskIsFatal) {
  EXPECT_DEATH(
      {
        auto* worker = new Task([] { sleep(1h); }, "doomed");
        worker->start();
        delete worker;
      },
      "task 'doomed' was destroyed while still alive");
}

// internal::prefetch_queued() loads a task's object from its queued context
// without reading the context: it assumes the context lies within the first
// 48 bytes of the Task, so that the line before the context also holds the
// shared_ptr control block make_shared puts in front of the Task. A
// static_assert in prefetch_queued() checks the same at compile time; this
// checks what the compiler actually laid out.
TEST_F(LoopTest, ATasksContextStartsWithinItsFirst48Bytes) {
  std::ptrdiff_t offset = -1;
  auto task = spawn([&offset] {
    const char* context = reinterpret_cast<const char*>(&internal::current_blocking_context());
    offset = context - reinterpret_cast<const char*>(Task::current());
  });
  task->join();
  EXPECT_GE(offset, 0);
  EXPECT_LE(offset, 48);
}

}  // namespace
}  // namespace evergreen
