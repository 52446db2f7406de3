// wait() and as_completed(): futures from different executors and of
// different value types, taken together as FutureBase.
#include "evergreen/futures/wait.h"

#include <chrono>
#include <list>
#include <ranges>
#include <span>
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

using evergreen::testing::Gate;
using WaitTest = evergreen::testing::FuturesTest;

// A call that sleeps (cooperatively) and then returns `value`.
auto after(Duration delay, int value) {
  return [delay, value] {
    sleep(delay);
    return value;
  };
}

TEST_F(WaitTest, AllCompletedWaitsForEveryFutureOfAnyExecutorAndType) {
  TaskPoolExecutor tasks(4);
  ThreadPoolExecutor threads(2);
  Future<int> a = tasks.submit(after(10ms, 1));
  Future<std::string> b = threads.submit([] {
    std::this_thread::sleep_for(15ms);
    return std::string("b");
  });
  Future<void> c = tasks.submit([] { sleep(5ms); });
  DoneAndNotDone result = wait({a, b, c}, 5s);
  EXPECT_EQ(result.done, (std::vector<FutureBase>{a, b, c})) << "input order";
  EXPECT_TRUE(result.not_done.empty());
  EXPECT_EQ(b.get(0s), "b");
}

TEST_F(WaitTest, FirstCompletedReturnsWithTheQuickestOne) {
  TaskPoolExecutor executor(3);
  Gate gate;
  auto held = [&gate](int value) {
    return [&gate, value] {
      gate.wait();
      return value;
    };
  };
  Future<int> slow = executor.submit(held(1));
  Future<int> fast = executor.submit(after(1ms, 2));
  Future<int> slower = executor.submit(held(3));
  DoneAndNotDone result = wait({slow, fast, slower}, 5s, ReturnWhen::kFirstCompleted);
  EXPECT_EQ(result.done, (std::vector<FutureBase>{fast}));
  EXPECT_EQ(result.not_done, (std::vector<FutureBase>{slow, slower}));
  gate.open();
}

TEST_F(WaitTest, FirstExceptionReturnsWhenOneRaises) {
  TaskPoolExecutor executor(3);
  Gate gate;
  Future<int> ok = executor.submit(after(0s, 1));
  Future<int> raises = executor.submit([]() -> int {
    sleep(1ms);
    throw std::runtime_error("failed");
  });
  Future<int> held = executor.submit([&gate] {
    gate.wait();
    return 3;
  });
  DoneAndNotDone result = wait({ok, raises, held}, 5s, ReturnWhen::kFirstException);
  EXPECT_EQ(result.done, (std::vector<FutureBase>{ok, raises}));
  EXPECT_EQ(result.not_done, (std::vector<FutureBase>{held}));
  gate.open();
}

TEST_F(WaitTest, FirstExceptionWithoutAnyIsAllCompleted) {
  TaskPoolExecutor executor(3);
  Gate gate;
  Future<int> blocked = executor.submit([&] {
    gate.wait();
    return 0;
  });
  Future<int> queued_then_cancelled = executor.submit(after(1ms, 1));
  Future<int> ok = executor.submit(after(20ms, 2));
  executor.submit([&] {
    sleep(30ms);
    gate.open();
  });
  // Three workers: the fourth call is queued behind `blocked`... so cancel
  // a call that has not started: a cancellation does not count as raising.
  TaskPoolExecutor single(1);
  Future<void> hold = single.submit([] { sleep(5ms); });
  Future<int> cancelled = single.submit(after(1ms, 9));
  ASSERT_TRUE(cancelled.cancel());
  DoneAndNotDone result =
      wait({blocked, queued_then_cancelled, ok, cancelled}, 5s, ReturnWhen::kFirstException);
  EXPECT_EQ(result.done.size(), 4u);
  EXPECT_TRUE(result.not_done.empty());
  EXPECT_TRUE(gate.is_open()) << "returned only when all were done";
}

TEST_F(WaitTest, ATimeoutReturnsWhatIsNotDoneWithoutThrowing) {
  TaskPoolExecutor executor(2);
  Gate gate;
  Future<int> stuck = executor.submit([&] {
    gate.wait();
    return 1;
  });
  Future<int> quick = executor.submit(after(0s, 2));
  quick.get(5s);
  auto start = now();
  DoneAndNotDone result = wait({stuck, quick}, 30ms);
  EXPECT_GE(now() - start, 30ms);
  EXPECT_EQ(result.done, (std::vector<FutureBase>{quick}));
  EXPECT_EQ(result.not_done, (std::vector<FutureBase>{stuck}));
  gate.open();
}

TEST_F(WaitTest, ReturnsAtOnceWhenAlreadySatisfied) {
  TaskPoolExecutor executor(1);
  Future<int> done = executor.submit(after(0s, 1));
  done.get();
  DoneAndNotDone empty = wait({}, std::nullopt, ReturnWhen::kFirstCompleted);
  EXPECT_TRUE(empty.done.empty());
  EXPECT_TRUE(empty.not_done.empty());
  // Already done, listed twice: appears once.
  DoneAndNotDone twice = wait({done, done});
  EXPECT_EQ(twice.done, (std::vector<FutureBase>{done}));
  // A zero timeout just polls, even where blocking is impossible.
  Gate gate;
  Future<int> pending = executor.submit([&] {
    gate.wait();
    return 2;
  });
  bool polled = false;
  EventLoop::current().call_soon([&] {
    DoneAndNotDone poll = wait({pending, done}, 0s);
    EXPECT_EQ(poll.not_done, (std::vector<FutureBase>{pending}));
    polled = true;
  });
  sleep(0s);
  EXPECT_TRUE(polled);
  gate.open();
}

TEST_F(WaitTest, AKillLeavesTheWaitCleanly) {
  TaskPoolExecutor executor(1);
  Gate gate;
  Future<int> future = executor.submit([&] {
    gate.wait();
    return 1;
  });
  bool returned = false;
  auto waiter = spawn([&] {
    wait({future});
    returned = true;
  });
  yield_rounds();
  waiter->kill();
  ASSERT_TRUE(waiter->join(5s));
  EXPECT_FALSE(returned);
  gate.open();  // completing the future must not touch the dead wait
  EXPECT_EQ(future.get(5s), 1);
}

TEST_F(WaitTest, AsCompletedYieldsInCompletionOrder) {
  TaskPoolExecutor executor(3);
  Gate gates[3];
  auto held = [&gates](int index) {
    return [&gates, index] {
      gates[index].wait();
      return index;
    };
  };
  Future<int> zero = executor.submit(held(0));
  Future<int> one = executor.submit(held(1));
  Future<int> two = executor.submit(held(2));
  // Another task lets the calls finish in the order 1, 2, 0, each only once
  // the one before it is done.
  spawn([&] {
    gates[1].open();
    one.get();
    gates[2].open();
    two.get();
    gates[0].open();
  });
  std::vector<int> order;
  for (const FutureBase& done : as_completed({zero, one, two}, 5s)) {
    EXPECT_TRUE(done.done());
    order.push_back(Future<int>(done).get());
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 0}));
}

TEST_F(WaitTest, AsCompletedFollowsTimers) {
  TaskPoolExecutor executor(3);
  Future<int> third = executor.submit(after(150ms, 3));
  Future<int> first = executor.submit(after(1ms, 1));
  Future<int> second = executor.submit(after(75ms, 2));
  std::vector<int> order;
  for (const FutureBase& done : as_completed({third, first, second}, 5s)) {
    order.push_back(Future<int>(done).get());
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST_F(WaitTest, AsCompletedYieldsTheAlreadyDoneFirstInInputOrder) {
  TaskPoolExecutor executor(4);
  Future<int> a = executor.submit(after(0s, 1));
  Future<int> b = executor.submit(after(0s, 2));
  wait({a, b});
  Future<int> late = executor.submit(after(5ms, 3));
  std::vector<FutureBase> order;
  for (const FutureBase& done : as_completed({late, b, a, b})) order.push_back(done);
  EXPECT_EQ(order, (std::vector<FutureBase>{b, a, late})) << "each distinct future once";
}

TEST_F(WaitTest, AsCompletedTakesMixedTypesAndCancelledFutures) {
  TaskPoolExecutor tasks(1);
  ThreadPoolExecutor threads(1);
  Future<std::string> text = threads.submit([] { return std::string("text"); });
  Future<void> hold = tasks.submit([] { sleep(10ms); });
  Future<double> cancelled = tasks.submit([] { return 1.5; });
  ASSERT_TRUE(cancelled.cancel());
  int seen = 0;
  for (const FutureBase& done : as_completed({text, hold, cancelled}, 5s)) {
    ++seen;
    if (done == text) {
      EXPECT_EQ(Future<std::string>(done).get(), "text");
    }
    if (done == cancelled) {
      EXPECT_THROW(done.get(), CancelledError);
    }
  }
  EXPECT_EQ(seen, 3);
}

TEST_F(WaitTest, AsCompletedRaisesTimeoutErrorAndEnds) {
  TaskPoolExecutor executor(2);
  Gate gate;
  Future<int> quick = executor.submit(after(1ms, 1));
  Future<int> stuck = executor.submit([&] {
    gate.wait();
    return 2;
  });
  quick.get(5s);
  auto start = now();
  AsCompleted range = as_completed({quick, stuck}, 30ms);
  auto it = range.begin();
  ASSERT_FALSE(it == range.end());
  EXPECT_TRUE(*it == quick);
  EXPECT_THROW(++it, TimeoutError);
  EXPECT_GE(now() - start, 30ms) << "the timeout counts from the call to as_completed()";
  EXPECT_TRUE(it == range.end());
  gate.open();
  EXPECT_EQ(stuck.get(5s), 2);
}

TEST_F(WaitTest, AsCompletedOfNothingIsEmpty) {
  int seen = 0;
  for (const FutureBase& done : as_completed({})) {
    (void)done;
    ++seen;
  }
  EXPECT_EQ(seen, 0);
}

TEST_F(WaitTest, TakesAVectorOfTypedFuturesAsItIs) {
  TaskPoolExecutor tasks(4);
  std::vector<Future<int>> futures = {tasks.submit(after(200ms, 1)), tasks.submit(after(1ms, 2))};
  DoneAndNotDone first = wait(futures, 5s, ReturnWhen::kFirstCompleted);
  EXPECT_EQ(first.done, (std::vector<FutureBase>{futures[1]}));
  EXPECT_EQ(first.not_done, (std::vector<FutureBase>{futures[0]}));
  DoneAndNotDone all = wait(futures);
  EXPECT_EQ(all.done, (std::vector<FutureBase>{futures[0], futures[1]}));
  EXPECT_TRUE(all.not_done.empty());
  EXPECT_EQ(Future<int>(all.done[0]).get(), 1);
}

TEST_F(WaitTest, TakesOtherRangesOfFutures) {
  TaskPoolExecutor tasks(4);
  std::list<FutureBase> listed = {tasks.submit(after(1ms, 1)), tasks.submit(after(2ms, 2))};
  EXPECT_EQ(wait(listed, 5s).done.size(), 2u);
  const std::vector<FutureBase> handles(listed.begin(), listed.end());
  EXPECT_EQ(wait(std::span<const FutureBase>(handles)).done, handles);
  std::vector<Future<int>> typed = {tasks.submit(after(1ms, 3)), tasks.submit(after(2ms, 4))};
  EXPECT_EQ(wait(typed | std::views::take(1)).done, (std::vector<FutureBase>{typed[0]}));
}

TEST_F(WaitTest, AsCompletedTakesAVectorOfTypedFutures) {
  TaskPoolExecutor tasks(4);
  std::vector<Future<int>> futures = {tasks.submit(after(200ms, 1)), tasks.submit(after(1ms, 2))};
  std::vector<int> order;
  for (const FutureBase& future : as_completed(futures, 5s)) {
    order.push_back(Future<int>(future).get());
  }
  EXPECT_EQ(order, (std::vector<int>{2, 1}));
  // A temporary range works too: it is read during the call.
  size_t count = 0;
  for (const FutureBase& future : as_completed(std::vector<Future<int>>(futures))) {
    EXPECT_TRUE(future.done());
    ++count;
  }
  EXPECT_EQ(count, 2u);
}

TEST_F(WaitTest, ADefaultConstructedFutureIsRejected) {
  EXPECT_THROW(wait({FutureBase()}), std::invalid_argument);
  EXPECT_THROW(as_completed({FutureBase()}), std::invalid_argument);
}

}  // namespace
}  // namespace evergreen::futures
