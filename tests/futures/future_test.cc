// Future: values, exceptions, cancellation, timeouts and done callbacks, as a
// user of Executor::submit() observes them.
#include "evergreen/futures/future.h"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "evergreen/futures/executor.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/report.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/futures/futures_test_support.h"

using namespace std::chrono_literals;

namespace evergreen::futures {
namespace {

using evergreen::testing::Gate;
using FutureTest = evergreen::testing::FuturesTest;

struct CustomError : std::runtime_error {
  CustomError() : std::runtime_error("custom failure") {}
};

int add(int a, int b) { return a + b; }

struct Counter {
  int bump(int by) { return value += by; }
  int value = 0;
};

TEST_F(FutureTest, SubmitReturnsATypedFutureForAnyCallable) {
  TaskPoolExecutor executor(4);
  int shared = 5;
  Counter counter;

  Future<int> sum = executor.submit(add, 2, 3);
  Future<std::string> text = executor.submit([](std::string s) { return s + "!"; }, "hi");
  Future<void> nothing = executor.submit([] {});
  Future<int&> reference = executor.submit([&shared]() -> int& { return shared; });
  Future<int> member = executor.submit(&Counter::bump, &counter, 7);
  static_assert(std::is_same_v<decltype(sum.get()), int>);
  static_assert(std::is_same_v<decltype(reference.get()), int&>);
  static_assert(std::is_same_v<decltype(nothing.get()), void>);

  EXPECT_EQ(sum.get(), 5);
  EXPECT_EQ(text.get(), "hi!");
  nothing.get();
  EXPECT_EQ(&reference.get(), &shared);
  EXPECT_EQ(member.get(), 7);
  EXPECT_EQ(counter.value, 7);
}

TEST_F(FutureTest, MoveOnlyCallablesArgumentsAndResults) {
  TaskPoolExecutor executor(2);
  auto owned = std::make_unique<int>(40);
  Future<std::unique_ptr<int>> future = executor.submit(
      [owned = std::move(owned)](std::unique_ptr<int> extra) {
        return std::make_unique<int>(*owned + *extra);
      },
      std::make_unique<int>(2));

  // get() on a move-only value: a const reference, as often as wanted.
  const std::unique_ptr<int>& peek = future.get();
  static_assert(std::is_same_v<decltype(future.get()), const std::unique_ptr<int>&>);
  EXPECT_EQ(*peek, 42);
  EXPECT_EQ(*future.get(), 42);

  // take() moves it out; afterwards the value is gone for every handle.
  Future<std::unique_ptr<int>> copy = future;
  std::unique_ptr<int> mine = copy.take();
  EXPECT_EQ(*mine, 42);
  EXPECT_THROW(future.get(), std::runtime_error);
  EXPECT_THROW(future.take(), std::runtime_error);
}

TEST_F(FutureTest, GetMayBeCalledMoreThanOnceFromAnyHandle) {
  TaskPoolExecutor executor(1);
  Future<std::string> future = executor.submit([] { return std::string("value"); });
  Future<std::string> copy = future;
  FutureBase base = future;
  EXPECT_EQ(future.get(), "value");
  EXPECT_EQ(future.get(), "value");
  EXPECT_EQ(copy.get(), "value");
  base.get();  // waits, and does not throw
  EXPECT_EQ(future.get(), "value");
}

TEST_F(FutureTest, GetRethrowsTheCallsExceptionEveryTime) {
  TaskPoolExecutor executor(1);
  Future<int> future = executor.submit([]() -> int { throw CustomError(); });
  EXPECT_THROW(future.get(), CustomError);
  EXPECT_THROW(future.get(), CustomError);
  FutureBase base = future;
  EXPECT_THROW(base.get(), CustomError);
  EXPECT_TRUE(future.done());
  EXPECT_FALSE(future.cancelled());
}

TEST_F(FutureTest, CancelSucceedsOnlyBeforeTheCallStarts) {
  TaskPoolExecutor executor(1);
  Gate gate;
  bool second_ran = false;
  Future<int> first = executor.submit([&] {
    gate.wait();
    return 1;
  });
  Future<int> second = executor.submit([&] {
    second_ran = true;
    return 2;
  });
  yield_rounds();  // the single worker is now inside the first call

  EXPECT_FALSE(first.cancel()) << "a running call cannot be cancelled";
  EXPECT_FALSE(first.cancelled());
  EXPECT_TRUE(second.cancel());
  EXPECT_TRUE(second.cancelled());
  EXPECT_TRUE(second.done());
  EXPECT_TRUE(second.cancel()) << "cancelling again still reports cancelled";
  EXPECT_THROW(second.get(), CancelledError);
  EXPECT_THROW(second.get(0s), CancelledError);

  gate.open();
  EXPECT_EQ(first.get(5s), 1);
  EXPECT_FALSE(first.cancel()) << "a finished call cannot be cancelled";
  executor.shutdown();
  EXPECT_FALSE(second_ran);
}

TEST_F(FutureTest, GetThrowsTimeoutErrorWhenTheCallIsNotDoneInTime) {
  TaskPoolExecutor executor(1);
  Gate gate;
  Future<int> future = executor.submit([&] {
    gate.wait();
    return 9;
  });
  EXPECT_THROW(future.get(0s), TimeoutError);
  auto start = now();
  EXPECT_THROW(future.get(20ms), TimeoutError);
  EXPECT_GE(now() - start, 20ms);
  FutureBase base = future;
  EXPECT_THROW(base.get(1ms), TimeoutError);
  EXPECT_FALSE(future.done());

  gate.open();
  EXPECT_EQ(future.get(5s), 9);
  EXPECT_EQ(future.get(0s), 9) << "a done future needs no time";
}

TEST_F(FutureTest, TimeoutErrorAndCancelledErrorAreRuntimeErrors) {
  static_assert(std::is_base_of_v<std::runtime_error, TimeoutError>);
  static_assert(std::is_base_of_v<std::runtime_error, CancelledError>);
}

TEST_F(FutureTest, DoneCallbacksRunInOrderWithTheFuture) {
  TaskPoolExecutor executor(1);
  Gate gate;
  Future<int> future = executor.submit([&] {
    gate.wait();
    return 3;
  });
  std::vector<int> order;
  for (int i = 0; i < 3; ++i) {
    future.add_done_callback([&order, &future, i](FutureBase& done) {
      EXPECT_TRUE(done == future);
      EXPECT_TRUE(done.done());
      EXPECT_EQ(Future<int>(done).get(), 3);
      order.push_back(i);
    });
  }
  EXPECT_TRUE(order.empty());
  gate.open();
  future.get(5s);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));

  // Added after completion: runs at once, before add_done_callback returns.
  future.add_done_callback([&order](FutureBase&) { order.push_back(3); });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(FutureTest, DoneCallbacksRunOnCancel) {
  TaskPoolExecutor executor(1);
  Gate gate;
  Future<void> blocker = executor.submit([&] { gate.wait(); });
  Future<int> queued = executor.submit([] { return 1; });
  bool called = false;
  queued.add_done_callback([&](FutureBase& done) {
    called = true;
    EXPECT_TRUE(done.cancelled());
  });
  ASSERT_TRUE(queued.cancel());
  EXPECT_TRUE(called);
  gate.open();
}

TEST_F(FutureTest, ACallbackExceptionIsLoggedAndIgnored) {
  TaskPoolExecutor executor(1);
  Future<int> future = executor.submit([] { return 1; });
  bool later_ran = false;
  future.add_done_callback([](FutureBase&) { throw std::runtime_error("callback boom"); });
  future.add_done_callback([&](FutureBase&) { later_ran = true; });
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(future.get(), 1);
  // And on a done future, where the callback runs inside add_done_callback.
  EXPECT_NO_THROW(
      future.add_done_callback([](FutureBase&) { throw std::logic_error("second boom"); }));
  std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(later_ran);
  EXPECT_NE(logged.find("callback boom"), std::string::npos) << logged;
  EXPECT_NE(logged.find("second boom"), std::string::npos) << logged;
}

TEST_F(FutureTest, ACallbackExceptionGoesToTheReportHandler) {
  std::vector<Report> reports;
  set_report_handler([&](const Report& report) { reports.push_back(report); });
  TaskPoolExecutor executor(1);
  Future<int> future = executor.submit([] { return 1; });
  future.add_done_callback([](FutureBase&) { throw std::runtime_error("to the handler"); });
  EXPECT_EQ(future.get(), 1);
  set_report_handler(nullptr);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_THROW(std::rethrow_exception(reports[0].error), std::runtime_error);
  EXPECT_NE(reports[0].message.find("std::runtime_error: to the handler"), std::string::npos)
      << reports[0].message;
}

TEST_F(FutureTest, HandlesCompareByTheirSharedState) {
  TaskPoolExecutor executor(2);
  Future<int> a = executor.submit([] { return 1; });
  Future<int> b = executor.submit([] { return 2; });
  Future<int> a_copy = a;
  FutureBase a_base = a;
  EXPECT_TRUE(a == a_copy);
  EXPECT_TRUE(a_base == a);
  EXPECT_FALSE(a == b);
  std::unordered_set<FutureBase> set = {a, a_copy, a_base, b};
  EXPECT_EQ(set.size(), 2u);

  EXPECT_EQ(Future<int>(a_base).get(), 1);
  EXPECT_THROW(Future<std::string>{a_base}, std::invalid_argument);
  EXPECT_THROW(Future<int&>{a_base}, std::invalid_argument);
}

TEST_F(FutureTest, ADefaultConstructedFutureHasNoState) {
  Future<int> empty;
  FutureBase base;
  EXPECT_FALSE(empty.valid());
  EXPECT_FALSE(base.valid());
  EXPECT_TRUE(empty == base);
  EXPECT_THROW(empty.done(), std::runtime_error);
  EXPECT_THROW(empty.get(), std::runtime_error);
  EXPECT_THROW(base.cancel(), std::runtime_error);
}

TEST_F(FutureTest, AKillReachesATaskBlockedInGet) {
  TaskPoolExecutor executor(1);
  Gate gate;
  Future<int> future = executor.submit([&] {
    gate.wait();
    return 4;
  });
  bool got_past = false;
  auto waiter = spawn([&] {
    future.get();
    got_past = true;
  });
  yield_rounds();
  waiter->kill();
  EXPECT_TRUE(waiter->join(5s));
  EXPECT_FALSE(got_past);
  // The future itself is untouched by the waiter's death.
  gate.open();
  EXPECT_EQ(future.get(5s), 4);
}

TEST_F(FutureTest, ATimeoutReachesATaskBlockedInGet) {
  TaskPoolExecutor executor(1);
  Gate gate;
  Future<int> future = executor.submit([&] {
    gate.wait();
    return 4;
  });
  std::optional<int> result = with_timeout(10ms, [&] { return future.get(); });
  EXPECT_FALSE(result.has_value());
  gate.open();
  EXPECT_EQ(future.get(5s), 4);
}

TEST_F(FutureTest, BlockingGetInsideALoopCallbackThrows) {
  TaskPoolExecutor executor(1);
  Gate gate;
  Future<int> pending = executor.submit([&] {
    gate.wait();
    return 1;
  });
  Future<int> finished = executor.submit([] { return 2; });
  yield_rounds();
  bool checked = false;
  EventLoop::current().call_soon([&] {
    EXPECT_THROW(pending.get(), std::runtime_error);
    EXPECT_THROW(pending.get(0s), TimeoutError) << "a zero timeout only polls";
    checked = true;
  });
  yield_rounds();
  EXPECT_TRUE(checked);
  gate.open();
  EXPECT_EQ(finished.get(5s), 2);
  EventLoop::current().call_soon([&] { EXPECT_EQ(finished.get(), 2); });
  yield_rounds();
}

TEST_F(FutureTest, GetInTheMainContextRunsTheLoop) {
  // Nothing but the main context's get() drives the loop here.
  TaskPoolExecutor executor(1);
  Future<int> future = executor.submit([] {
    sleep(5ms);
    return 11;
  });
  EXPECT_EQ(future.get(), 11);
}

TEST_F(FutureTest, ThreadPoolFuturesCompleteOnTheLoopThread) {
  ThreadPoolExecutor executor(2);
  std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id call_thread;
  std::thread::id callback_thread;
  Future<int> future = executor.submit([&] {
    call_thread = std::this_thread::get_id();
    return 5;
  });
  future.add_done_callback([&](FutureBase&) { callback_thread = std::this_thread::get_id(); });
  EXPECT_EQ(future.get(5s), 5);
  EXPECT_NE(call_thread, loop_thread);
  EXPECT_EQ(callback_thread, loop_thread);
}

}  // namespace
}  // namespace evergreen::futures
