// futures::submit_to and LoopGroupExecutor: calls run on a group's loops and
// their futures complete on the caller's loop.
#include "evergreen/futures/loop_group_executor.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evergreen/futures/errors.h"
#include "evergreen/loop/loop_group.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/futures/futures_test_support.h"

namespace evergreen::futures {
namespace {

using namespace std::chrono_literals;

using LoopGroupExecutorTest = testing::FuturesTest;

constexpr auto kPatience = 20s;

template <class T>
T wait_for(std::future<T>& future) {
  if (future.wait_for(kPatience) != std::future_status::ready) {
    ADD_FAILURE() << "timed out";
    std::abort();
  }
  return future.get();
}

TEST_F(LoopGroupExecutorTest, SubmitToRunsOnLoopIAndResolvesOnTheCallersLoop) {
  LoopGroup group(2);
  std::thread::id caller = std::this_thread::get_id();
  std::thread::id callback_thread;
  Future<size_t> index = submit_to(group, 1, [] {
    EXPECT_NE(Task::current(), nullptr);
    return LoopGroup::current_index();
  });
  index.add_done_callback([&](FutureBase&) { callback_thread = std::this_thread::get_id(); });
  EXPECT_EQ(index.get(kPatience), 1u);
  EXPECT_EQ(callback_thread, caller);
  EXPECT_EQ(submit_to(group, 0, [](int a, int b) { return a * b; }, 6, 7).get(kPatience), 42);
}

TEST_F(LoopGroupExecutorTest, ArgumentsAreMovedInAndExceptionsComeBack) {
  LoopGroup group(1);
  auto moved = submit_to(group, 0, [](std::unique_ptr<int> p) { return *p + 1; },
                         std::make_unique<int>(1));
  EXPECT_EQ(moved.get(kPatience), 2);
  auto failing = submit_to(group, 0, []() -> int { throw std::invalid_argument("bad input 17"); });
  try {
    failing.get(kPatience);
    FAIL() << "expected the call's exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "bad input 17");
  }
}

TEST_F(LoopGroupExecutorTest, GetFromATaskBlocksOnlyThatTask) {
  LoopGroup group(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  int got = 0;
  auto waiter = spawn([&] {
    // The call holds its loop's thread until the test releases it.
    got = submit_to(group, 0, [released] {
            released.wait();
            return 5;
          }).get();
  });
  int ticks = 0;
  auto ticker = spawn([&] {
    for (int i = 0; i < 5; ++i, ++ticks) sleep(0s);
  });
  EXPECT_TRUE(ticker->join(kPatience));
  EXPECT_EQ(ticks, 5);
  EXPECT_EQ(got, 0);
  release.set_value();
  EXPECT_TRUE(waiter->join(kPatience));
  EXPECT_EQ(got, 5);
}

TEST_F(LoopGroupExecutorTest, CallableFromALoopOfTheSameGroupIncludingItself) {
  LoopGroup group(2);
  std::promise<std::pair<size_t, size_t>> result;
  group.post(0, [&] {
    size_t other = submit_to(group, 1, [] { return LoopGroup::current_index(); }).get();
    size_t self = submit_to(group, 0, [] { return LoopGroup::current_index(); }).get();
    result.set_value({other, self});
  });
  auto future = result.get_future();
  EXPECT_EQ(wait_for(future), std::make_pair(size_t{1}, size_t{0}));
}

// run() returns at once only if no keep-alive was leaked; a watchdog thread
// (not a timer, which would itself keep run() going) bounds the wait.
void expect_loop_not_kept_alive() {
  std::promise<void> returned;
  std::atomic<bool> stopped_by_watchdog{false};
  EventLoop& loop = EventLoop::current();
  std::thread watchdog([&, done = returned.get_future()] {
    if (done.wait_for(10s) == std::future_status::timeout) {
      stopped_by_watchdog = true;
      loop.call_from_thread([&] { loop.stop(); });
    }
  });
  loop.run();
  returned.set_value();
  watchdog.join();
  EXPECT_FALSE(stopped_by_watchdog.load()) << "a refused call kept the caller's loop alive";
}

TEST_F(LoopGroupExecutorTest, RefusedCallsThrowAndLeaveNothingBehind) {
  LoopGroup group(2);
  EXPECT_THROW(submit_to(group, 2, [] { return 0; }), std::out_of_range);
  group.stop();
  EXPECT_THROW(submit_to(group, 0, [] { return 0; }), std::runtime_error);
  expect_loop_not_kept_alive();
}

TEST_F(LoopGroupExecutorTest, ACallKilledByStopFailsItsFuture) {
  LoopGroup group(1);
  std::promise<void> started;
  auto future = submit_to(group, 0, [&] {
    started.set_value();
    sleep(1h);
    return 0;
  });
  auto f = started.get_future();
  wait_for(f);
  group.stop();
  try {
    future.get(kPatience);
    FAIL() << "expected the killed-worker error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("killed"), std::string::npos) << error.what();
  }
}

TEST_F(LoopGroupExecutorTest, CancelBeforeTheLoopStartsTheCall) {
  LoopGroup group(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  group.post(0, [released] { released.wait(); });  // holds loop 0's thread
  std::atomic<bool> ran{false};
  auto future = submit_to(group, 0, [&] {
    ran = true;
    return 1;
  });
  EXPECT_TRUE(future.cancel());
  release.set_value();
  EXPECT_THROW(future.get(), CancelledError);
  // Calls to one loop start in order: once this one is back, the cancelled
  // one was seen and skipped.
  EXPECT_EQ(submit_to(group, 0, [] { return 2; }).get(kPatience), 2);
  EXPECT_FALSE(ran.load());
}

TEST_F(LoopGroupExecutorTest, ExecutorSpreadsSubmitRoundRobinAndMapUsesEveryLoop) {
  LoopGroup group(3);
  LoopGroupExecutor executor(group);
  std::vector<size_t> indices;
  for (int i = 0; i < 6; ++i) {
    indices.push_back(executor.submit([] { return LoopGroup::current_index(); }).get(kPatience));
  }
  EXPECT_EQ(indices, (std::vector<size_t>{0, 1, 2, 0, 1, 2}));
  std::vector<int> inputs{1, 2, 3, 4, 5, 6};
  std::set<size_t> used;
  std::vector<int> doubled;
  for (auto [index, value] :
       executor.map([](int x) { return std::make_pair(LoopGroup::current_index(), 2 * x); },
                    inputs, kPatience)) {
    used.insert(index);
    doubled.push_back(value);
  }
  EXPECT_EQ(used, (std::set<size_t>{0, 1, 2}));
  EXPECT_EQ(doubled, (std::vector<int>{2, 4, 6, 8, 10, 12}));
}

TEST_F(LoopGroupExecutorTest, ShutdownWaitsForCallsInFlightAndRefusesNewOnes) {
  LoopGroup group(2);
  LoopGroupExecutor executor(group);
  auto slow = executor.submit([] {
    sleep(30ms);
    return 3;
  });
  executor.shutdown(true);
  EXPECT_TRUE(slow.done());
  EXPECT_EQ(slow.get(), 3);
  EXPECT_THROW(executor.submit([] { return 0; }), std::runtime_error);
}

}  // namespace
}  // namespace evergreen::futures
