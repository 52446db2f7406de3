// TaskPoolExecutor: calls run in tasks on this loop, at most max_workers at
// once, and shutdown/destruction behave as the seed's Executor.shutdown().
#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "evergreen/futures/executor.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/futures/futures_test_support.h"

using namespace std::chrono_literals;

namespace evergreen::futures {
namespace {

using evergreen::testing::Gate;
using TaskPoolExecutorTest = evergreen::testing::FuturesTest;

// Tracks how many calls run at the same time.
struct ConcurrencyProbe {
  void enter() { peak = std::max(peak, ++running); }
  void leave() { --running; }
  int running = 0;
  int peak = 0;
};

TEST_F(TaskPoolExecutorTest, ZeroWorkersIsInvalid) {
  EXPECT_THROW(TaskPoolExecutor(0), std::invalid_argument);
}

TEST_F(TaskPoolExecutorTest, HundredCallsThroughTenWorkersNeverRunMoreThanTenAtOnce) {
  TaskPoolExecutor executor(10);
  ConcurrencyProbe probe;
  std::vector<Future<int>> futures;
  for (int i = 0; i < 100; ++i) {
    futures.push_back(executor.submit([&probe, i] {
      probe.enter();
      sleep(1ms);
      probe.leave();
      return i * i;
    }));
  }
  for (int i = 0; i < 100; ++i) EXPECT_EQ(futures[i].get(5s), i * i);
  EXPECT_EQ(probe.peak, 10) << "max_workers bounds concurrency, and is reached";
  EXPECT_EQ(probe.running, 0);
}

TEST_F(TaskPoolExecutorTest, CallsRunInTasksOnThisThreadInSubmissionOrder) {
  TaskPoolExecutor executor(1);
  std::vector<int> order;
  std::vector<Future<void>> futures;
  for (int i = 0; i < 5; ++i) {
    futures.push_back(executor.submit([&order, i, thread = std::this_thread::get_id()] {
      EXPECT_NE(Task::current(), nullptr);
      EXPECT_EQ(std::this_thread::get_id(), thread);
      order.push_back(i);
    }));
  }
  for (auto& future : futures) future.get(5s);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(TaskPoolExecutorTest, WaitingOnAFutureBlocksOnlyTheWaiter) {
  TaskPoolExecutor executor(2);
  int ticks = 0;
  bool stop = false;
  auto ticker = spawn([&] {
    while (!stop) {
      ++ticks;
      sleep(1ms);
    }
  });
  Future<int> slow = executor.submit([] {
    sleep(30ms);
    return 1;
  });
  EXPECT_EQ(slow.get(5s), 1);
  stop = true;
  ticker->join();
  EXPECT_GT(ticks, 5);
}

TEST_F(TaskPoolExecutorTest, SubmitAfterShutdownThrows) {
  TaskPoolExecutor executor(2);
  executor.shutdown();
  EXPECT_THROW(executor.submit([] { return 1; }), std::runtime_error);
  EXPECT_THROW(executor.map([](int x) { return x; }, std::vector<int>{1}), std::runtime_error);
  executor.shutdown();  // again: harmless
}

TEST_F(TaskPoolExecutorTest, ShutdownWaitsForThePendingCalls) {
  TaskPoolExecutor executor(2);
  std::vector<Future<void>> futures;
  int finished = 0;
  for (int i = 0; i < 6; ++i) {
    futures.push_back(executor.submit([&] {
      sleep(2ms);
      ++finished;
    }));
  }
  executor.shutdown(true);
  EXPECT_EQ(finished, 6);
  for (auto& future : futures) EXPECT_TRUE(future.done());
}

TEST_F(TaskPoolExecutorTest, ShutdownWithoutWaitReturnsAtOnceAndTheCallsStillRun) {
  TaskPoolExecutor executor(1);
  Future<int> first = executor.submit([] {
    sleep(5ms);
    return 1;
  });
  Future<int> second = executor.submit([] { return 2; });
  executor.shutdown(false);
  EXPECT_FALSE(first.done());
  EXPECT_FALSE(second.done());
  EXPECT_EQ(first.get(5s), 1);
  EXPECT_EQ(second.get(5s), 2);
}

TEST_F(TaskPoolExecutorTest, TheDestructorShutsDownAndWaits) {
  int finished = 0;
  Future<int> last;
  {
    TaskPoolExecutor executor(2);
    for (int i = 0; i < 4; ++i) {
      last = executor.submit([&finished, i] {
        sleep(2ms);
        ++finished;
        return i;
      });
    }
  }
  EXPECT_EQ(finished, 4);
  EXPECT_TRUE(last.done());
  EXPECT_EQ(last.get(0s), 3);
}

TEST_F(TaskPoolExecutorTest, ShutdownWithWaitFromOwnWorkerThrows) {
  TaskPoolExecutor executor(2);
  Future<void> future = executor.submit([&executor] { executor.shutdown(true); });
  EXPECT_THROW(future.get(5s), std::runtime_error);
  // The executor did shut down, and its destructor still waits properly.
  EXPECT_THROW(executor.submit([] {}), std::runtime_error);
}

TEST_F(TaskPoolExecutorTest, UsableThroughTheExecutorInterface) {
  std::unique_ptr<Executor> executor = std::make_unique<TaskPoolExecutor>(3);
  Future<int> future = executor->submit([](int x) { return x + 1; }, 1);
  EXPECT_EQ(future.get(5s), 2);
  executor->shutdown();
}

TEST_F(TaskPoolExecutorTest, TheDestructorDoesNotHangOnACallThatNeverEnds) {
  Gate never;
  {
    TaskPoolExecutor executor(1);
    executor.submit([&never] { never.wait(); });
    // The destructor's wait runs the loop, which finds nothing left that
    // could wake it: the destructor gives up instead of hanging; TearDown's
    // destroy() kills the worker.
  }
  SUCCEED();
}

TEST_F(TaskPoolExecutorTest, IdleWorkersDoNotKeepTheLoopRunning) {
  // A fresh thread with its own loop, so run() can be called on it.
  bool returned = false;
  std::thread thread([&] {
    EventLoop loop;
    TaskPoolExecutor executor(4);
    int result = 0;
    spawn([&] {
      std::vector<Future<int>> futures;
      for (int i = 0; i < 4; ++i) futures.push_back(executor.submit([i] { return i; }));
      for (auto& future : futures) result += future.get();
    });
    loop.run();  // returns although four idle workers wait for calls
    returned = true;
    EXPECT_EQ(result, 6);
    loop.destroy();
  });
  thread.join();
  EXPECT_TRUE(returned);
}

TEST_F(TaskPoolExecutorTest, AWorkerKilledByLoopDestructionLeavesNoLeak) {
  // Run in a thread whose loop is destroyed while a call blocks forever and
  // another is queued; the futures and their callbacks must be freed (ASan
  // checks for leaks) and the queued call's future settles as cancelled.
  std::thread thread([] {
    Future<void> queued;
    {
      EventLoop loop;
      Gate never;
      auto executor = std::make_unique<TaskPoolExecutor>(1);
      Future<void> blocked = executor->submit([&never] { never.wait(); });
      queued = executor->submit([] {});
      // A callback holding its own future: a cycle unless the state drops it.
      queued.add_done_callback([queued](FutureBase&) {});
      spawn([] { sleep(1ms); });
      loop.run();
      loop.destroy();
      executor.reset();  // after the loop died: cannot wait, must not hang
    }
    EXPECT_TRUE(queued.cancelled());
  });
  thread.join();
}

}  // namespace
}  // namespace evergreen::futures
