// ThreadPoolExecutor: calls run on OS threads while the loop keeps serving
// tasks, and their results come back to the loop's thread.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
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

using ThreadPoolExecutorTest = evergreen::testing::FuturesTest;

// Tracks how many calls run at once, across threads.
struct ThreadConcurrencyProbe {
  void enter() {
    int now = running.fetch_add(1) + 1;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
  }
  void leave() { running.fetch_sub(1); }
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
};

TEST_F(ThreadPoolExecutorTest, ZeroWorkersIsInvalid) {
  EXPECT_THROW(ThreadPoolExecutor(0), std::invalid_argument);
}

TEST_F(ThreadPoolExecutorTest, CallsRunOnOtherThreads) {
  ThreadPoolExecutor executor(2);
  Future<std::thread::id> id = executor.submit([] { return std::this_thread::get_id(); });
  EXPECT_NE(id.get(5s), std::this_thread::get_id());
}

TEST_F(ThreadPoolExecutorTest, EightBlockingSleepsOnFourThreadsWhileTheLoopTicks) {
  ThreadPoolExecutor executor(4);
  int ticks = 0;
  bool counting = false;
  bool stop = false;
  auto ticker = spawn([&] {
    while (!stop) {
      if (counting) ++ticks;
      sleep(1ms);
    }
  });
  auto start = now();
  std::vector<FutureBase> futures;
  for (int i = 0; i < 8; ++i) {
    futures.push_back(executor.submit([] {
      ::usleep(50'000);  // blocks the worker thread, not the loop
    }));
  }
  counting = true;  // from here on only the threads work, and the loop waits
  DoneAndNotDone result = wait(futures, 5s);
  auto elapsed = now() - start;
  stop = true;
  ticker->join();

  EXPECT_EQ(result.done.size(), 8u);
  EXPECT_GE(elapsed, 90ms) << "two rounds of 50 ms on four threads";
  EXPECT_LT(elapsed, 1s);
  // About one tick per millisecond of the wait, but a loaded TSan build has
  // managed only a handful. A wait that blocked the thread would allow none
  // (counting starts after the submits), so a few is proof enough.
  EXPECT_GE(ticks, 3) << "the loop kept serving the ticker while the threads slept";
}

TEST_F(ThreadPoolExecutorTest, MaxWorkersBoundsTheThreadsExactly) {
  ThreadPoolExecutor executor(4);
  ThreadConcurrencyProbe probe;
  std::vector<FutureBase> futures;
  for (int i = 0; i < 12; ++i) {
    futures.push_back(executor.submit([&probe] {
      probe.enter();
      // Stay until four calls run at once (bounded, so a broken pool that
      // never gets there fails rather than hangs).
      auto give_up = std::chrono::steady_clock::now() + 5s;
      while (probe.peak.load() < 4 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(1ms);
      }
      std::this_thread::sleep_for(5ms);
      probe.leave();
    }));
  }
  EXPECT_EQ(wait(futures, 30s).done.size(), 12u);
  EXPECT_EQ(probe.peak.load(), 4) << "max_workers bounds the threads, and is reached";
}

TEST_F(ThreadPoolExecutorTest, ExceptionsComeBackToTheLoop) {
  ThreadPoolExecutor executor(1);
  Future<int> future = executor.submit([]() -> int { throw std::invalid_argument("bad input"); });
  EXPECT_THROW(future.get(5s), std::invalid_argument);
  EXPECT_THROW(future.get(), std::invalid_argument);
}

TEST_F(ThreadPoolExecutorTest, MoveOnlyArgumentsAndResults) {
  ThreadPoolExecutor executor(2);
  Future<std::unique_ptr<std::string>> future = executor.submit(
      [](std::unique_ptr<std::string> s) { return std::make_unique<std::string>(*s + "!"); },
      std::make_unique<std::string>("moved"));
  EXPECT_EQ(*future.get(5s), "moved!");
  EXPECT_EQ(*future.take(), "moved!");
}

TEST_F(ThreadPoolExecutorTest, CancelStopsAQueuedCallButNotARunningOne) {
  ThreadPoolExecutor executor(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first_started{false};
  std::atomic<bool> second_ran{false};
  Future<int> first = executor.submit([&] {
    first_started = true;
    released.wait();
    return 1;
  });
  Future<int> second = executor.submit([&] {
    second_ran = true;
    return 2;
  });
  for (int i = 0; i < 5000 && !first_started; ++i) sleep(1ms);
  ASSERT_TRUE(first_started);
  EXPECT_FALSE(first.cancel());
  EXPECT_TRUE(second.cancel());
  EXPECT_TRUE(second.done());
  EXPECT_THROW(second.get(), CancelledError);
  release.set_value();
  EXPECT_EQ(first.get(5s), 1);
  executor.shutdown(true);
  EXPECT_FALSE(second_ran);
}

TEST_F(ThreadPoolExecutorTest, AMainContextWaitingOnAThreadKeepsTheLoopAlive) {
  // Nothing else is scheduled: only the call in flight keeps the loop going.
  ThreadPoolExecutor executor(1);
  Future<int> future = executor.submit([] {
    std::this_thread::sleep_for(20ms);
    return 3;
  });
  EXPECT_EQ(future.get(), 3);
}

TEST_F(ThreadPoolExecutorTest, RunKeepsGoingWhileACallIsInFlight) {
  bool done_when_run_returned = false;
  std::thread thread([&] {
    EventLoop loop;
    ThreadPoolExecutor executor(1);
    Future<int> future = executor.submit([] {
      std::this_thread::sleep_for(20ms);
      return 1;
    });
    loop.run();
    done_when_run_returned = future.done();
    loop.destroy();
  });
  thread.join();
  EXPECT_TRUE(done_when_run_returned);
}

TEST_F(ThreadPoolExecutorTest, ShutdownWaitsCooperatively) {
  ThreadPoolExecutor executor(2);
  std::atomic<int> finished{0};
  for (int i = 0; i < 4; ++i) {
    executor.submit([&] {
      std::this_thread::sleep_for(50ms);
      ++finished;
    });
  }
  // Counted only while calls are still running: a shutdown() that blocked
  // the thread would let the ticker run only after they all ended. (Not a
  // count of ticks: a loaded sanitizer build got 3 in the whole wait.)
  int ticks_while_running = 0;
  bool stop = false;
  auto ticker = spawn([&] {
    while (!stop) {
      if (finished.load() < 4) ++ticks_while_running;
      sleep(1ms);
    }
  });
  executor.shutdown(true);
  stop = true;
  ticker->join();
  EXPECT_EQ(finished.load(), 4);
  EXPECT_GT(ticks_while_running, 0) << "the loop ran other tasks while shutdown() waited";
  EXPECT_THROW(executor.submit([] {}), std::runtime_error);
}

TEST_F(ThreadPoolExecutorTest, ShutdownWithoutWaitLetsTheCallsFinish) {
  ThreadPoolExecutor executor(1);
  Future<int> future = executor.submit([] {
    std::this_thread::sleep_for(10ms);
    return 8;
  });
  executor.shutdown(false);
  EXPECT_EQ(future.get(5s), 8);
}

TEST_F(ThreadPoolExecutorTest, TheDestructorShutsDownAndWaits) {
  std::atomic<int> finished{0};
  Future<void> last;
  {
    ThreadPoolExecutor executor(3);
    for (int i = 0; i < 6; ++i) {
      last = executor.submit([&] {
        std::this_thread::sleep_for(5ms);
        ++finished;
      });
    }
  }
  EXPECT_EQ(finished.load(), 6);
  EXPECT_TRUE(last.done());
}

TEST_F(ThreadPoolExecutorTest, ManySmallCallsFromManyTasks) {
  ThreadPoolExecutor executor(4);
  long long total = 0;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int t = 0; t < 8; ++t) {
    tasks.push_back(spawn([&, t] {
      for (int i = 0; i < 250; ++i) {
        total += executor.submit([](int x) { return x; }, t * 1000 + i).get(5s);
      }
    }));
  }
  for (auto& task : tasks) ASSERT_TRUE(task->join(30s));
  long long expected = 0;
  for (int t = 0; t < 8; ++t) {
    for (int i = 0; i < 250; ++i) expected += t * 1000 + i;
  }
  EXPECT_EQ(total, expected);
}

TEST_F(ThreadPoolExecutorTest, DestroyedAfterItsLoopJoinsTheThreads) {
  std::atomic<bool> ran{false};
  std::thread thread([&] {
    std::unique_ptr<ThreadPoolExecutor> executor;
    {
      EventLoop loop;
      executor = std::make_unique<ThreadPoolExecutor>(1);
      executor->submit([&] {
        std::this_thread::sleep_for(20ms);
        ran = true;
      });
      loop.destroy();  // the result has nowhere to go now
    }
    executor.reset();  // joins the thread after its call
    EXPECT_TRUE(ran);
  });
  thread.join();
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace evergreen::futures

namespace evergreen::futures {
namespace {

TEST_F(ThreadPoolExecutorTest, ACallThatThrowsTaskExitIsReportedAsSuch) {
  ThreadPoolExecutor executor(1);
  Future<int> future = executor.submit([]() -> int { throw TaskExit(); });
  try {
    future.get(5s);
    FAIL() << "get() returned";
  } catch (const std::runtime_error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("raised TaskExit"), std::string::npos) << message;
    EXPECT_EQ(message.find("worker task was killed"), std::string::npos) << message;
  }
  EXPECT_EQ(executor.submit([] { return 1; }).get(5s), 1) << "the pool goes on";
}

}  // namespace
}  // namespace evergreen::futures
