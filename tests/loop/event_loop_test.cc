#include "evergreen/loop/event_loop.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::LoopTest;

TEST_F(LoopTest, CallSoonRunsInFifoOrder) {
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) loop().call_soon([&order, i] { order.push_back(i); });
  loop().run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(LoopTest, CallSoonFromCallbackRunsAfterAlreadyQueued) {
  std::vector<std::string> order;
  loop().call_soon([&] {
    order.push_back("a");
    loop().call_soon([&] { order.push_back("c"); });
  });
  loop().call_soon([&] { order.push_back("b"); });
  loop().run();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(LoopTest, TimersFireInDeadlineOrderAndCancelledNever) {
  // Deadlines from one base time: with call_later() each delay counts from
  // its own call, and a thread descheduled between two calls (ASan on a
  // loaded 2-core machine) would reorder the deadlines themselves.
  std::vector<int> order;
  const TimePoint base = loop().time();
  loop().call_at(base + 30ms, [&] { order.push_back(30); });
  loop().call_at(base + 10ms, [&] { order.push_back(10); });
  Handler cancelled = loop().call_at(base + 20ms, [&] { order.push_back(20); });
  loop().call_at(base + 5ms, [&] { order.push_back(5); });
  cancelled.cancel();
  EXPECT_TRUE(cancelled.cancelled());
  loop().run();
  EXPECT_EQ(order, (std::vector<int>{5, 10, 30}));
}

TEST_F(LoopTest, TimersWithEqualDeadlinesRunInSchedulingOrder) {
  std::vector<int> order;
  TimePoint when = loop().time() + 5ms;
  for (int i = 0; i < 10; ++i) loop().call_at(when, [&order, i] { order.push_back(i); });
  loop().run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST_F(LoopTest, TimerCancelledByAnEarlierOneDueAtTheSameTimeNeverRuns) {
  // Both are due in the same iteration, so the loop has already taken the
  // second out of its heap when the first runs and cancels it.
  std::vector<int> order;
  TimePoint when = loop().time() + 5ms;
  Handler second;
  loop().call_at(when, [&] {
    order.push_back(1);
    second.cancel();
  });
  second = loop().call_at(when, [&] { order.push_back(2); });
  loop().call_at(when, [&] { order.push_back(3); });
  loop().run();
  EXPECT_EQ(order, (std::vector<int>{1, 3}));
  EXPECT_TRUE(second.cancelled());
}

TEST_F(LoopTest, ManyTimersDueAtOnceAllRunInOrder) {
  // More than one iteration fires at a time: the rest must follow, in order.
  std::vector<int> order;
  TimePoint when = loop().time() + 2ms;
  for (int i = 0; i < 1000; ++i) loop().call_at(when, [&order, i] { order.push_back(i); });
  loop().run();
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(order[i], i);
}

TEST_F(LoopTest, TimerWaitsAtLeastItsDelay) {
  TimePoint start = loop().time();
  TimePoint fired_at{};
  loop().call_later(20ms, [&] { fired_at = loop().time(); });
  loop().run();
  EXPECT_GE(fired_at - start, 20ms);
}

TEST_F(LoopTest, CancelledCallSoonNeverRuns) {
  bool ran = false;
  Handler handler = loop().call_soon([&] { ran = true; });
  handler.cancel();
  handler.cancel();  // twice is harmless
  loop().run();
  EXPECT_FALSE(ran);
}

TEST_F(LoopTest, CancellingAFarTimerLetsRunReturn) {
  Handler far = loop().call_later(1h, [] {});
  loop().call_soon([&] { far.cancel(); });
  loop().run();  // would block for an hour if the cancelled timer kept the loop alive
  SUCCEED();
}

TEST_F(LoopTest, HandlerOfARunCallbackIsNotCancelled) {
  Handler handler = loop().call_soon([] {});
  loop().run();
  EXPECT_FALSE(handler.cancelled());
}

TEST_F(LoopTest, ExceptionInCallbackIsReportedAndLoopContinues) {
  bool later_ran = false;
  loop().call_soon([] { throw std::runtime_error("boom in callback"); });
  loop().call_soon([&] { later_ran = true; });
  ::testing::internal::CaptureStderr();
  loop().run();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(later_ran);
  EXPECT_NE(err.find("boom in callback"), std::string::npos) << err;
}

TEST_F(LoopTest, ReaderCallbackRunsEachTimeUntilRemoved) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  int calls = 0;
  loop().add_reader(fds[0], [&] {
    char byte;
    ASSERT_EQ(read(fds[0], &byte, 1), 1);
    if (++calls == 3) {
      EXPECT_TRUE(loop().remove_reader(fds[0]));
    } else {
      ASSERT_EQ(write(fds[1], "x", 1), 1);
    }
  });
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  loop().run();
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(loop().remove_reader(fds[0]));
  close(fds[0]);
  close(fds[1]);
}

TEST_F(LoopTest, ReaderIsLevelTriggered) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  ASSERT_EQ(write(fds[1], "ab", 2), 2);
  int calls = 0;
  // Never reads: a level-triggered watch keeps reporting the fd.
  loop().add_reader(fds[0], [&] {
    if (++calls == 5) loop().remove_reader(fds[0]);
  });
  loop().run();
  EXPECT_EQ(calls, 5);
  close(fds[0]);
  close(fds[1]);
}

TEST_F(LoopTest, WriterCallbackRunsWhenWritable) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  bool wrote = false;
  loop().add_writer(fds[1], [&] {
    wrote = true;
    loop().remove_writer(fds[1]);
  });
  loop().run();
  EXPECT_TRUE(wrote);
  close(fds[0]);
  close(fds[1]);
}

TEST_F(LoopTest, AddReaderOnBadFdThrowsSystemError) {
  EXPECT_THROW(loop().add_reader(-1, [] {}), std::system_error);
}

TEST_F(LoopTest, RunTwiceThrows) {
  loop().run();
  EXPECT_THROW(loop().run(), std::runtime_error);
}

TEST_F(LoopTest, StopBeforeRunThrows) { EXPECT_THROW(loop().stop(), std::runtime_error); }

TEST_F(LoopTest, RunForeverReturnsAfterStop) {
  int ticks = 0;
  loop().call_later(10ms, [&] {
    ++ticks;
    loop().stop();
  });
  loop().run_forever();
  EXPECT_EQ(ticks, 1);
}

TEST_F(LoopTest, StopEndsRunWithWorkLeft) {
  bool late = false;
  loop().call_soon([&] { loop().stop(); });
  loop().call_later(1h, [&] { late = true; });
  loop().run();
  EXPECT_FALSE(late);
}

TEST_F(LoopTest, SecondLoopOnSameThreadThrows) {
  EXPECT_THROW(EventLoop second, std::runtime_error);
}

TEST_F(LoopTest, CurrentIsThisThreadsLoop) { EXPECT_EQ(&EventLoop::current(), &loop()); }

TEST_F(LoopTest, DestroyTwiceThrows) {
  loop().destroy();
  EXPECT_THROW(loop().destroy(), std::runtime_error);
}

TEST_F(LoopTest, DestroyFromATaskThrows) {
  bool threw = false;
  spawn([&] {
    try {
      loop().destroy();
    } catch (const std::runtime_error&) {
      threw = true;
    }
  });
  loop().run();
  EXPECT_TRUE(threw);
}

TEST_F(LoopTest, MembersFromAnotherThreadThrow) {
  bool call_soon_threw = false, destroy_threw = false, current_threw = false;
  std::thread other([&] {
    try {
      loop().call_soon([] {});
    } catch (const std::runtime_error&) {
      call_soon_threw = true;
    }
    try {
      loop().destroy();
    } catch (const std::runtime_error&) {
      destroy_threw = true;
    }
    try {
      EventLoop::current();
    } catch (const std::runtime_error& error) {
      current_threw = std::string(error.what()).find("no event loop") != std::string::npos;
    }
  });
  other.join();
  EXPECT_TRUE(call_soon_threw);
  EXPECT_TRUE(destroy_threw);
  EXPECT_TRUE(current_threw);
}

TEST_F(LoopTest, DestroyThenCreateANewLoopOnTheSameThread) {
  bool ran_in_first = false;
  loop().call_soon([&] { ran_in_first = true; });
  loop().run();
  loop().destroy();
  EXPECT_TRUE(ran_in_first);
  EventLoop second;
  EXPECT_EQ(&EventLoop::current(), &second);
  bool ran_in_second = false;
  second.call_soon([&] { ran_in_second = true; });
  second.run();
  EXPECT_TRUE(ran_in_second);
}

TEST_F(LoopTest, DestroyDiscardsScheduledCallbacks) {
  bool ran = false;
  loop().call_soon([&] { ran = true; });
  loop().call_later(1ms, [&] { ran = true; });
  loop().destroy();
  EXPECT_FALSE(ran);
}

TEST(LoopOnOtherThread, ThreadCreatesAndRunsItsOwnLoop) {
  std::vector<int> order;
  std::thread worker([&] {
    EventLoop loop;
    spawn([&] {
      order.push_back(1);
      sleep(1ms);
      order.push_back(3);
    });
    spawn([&] { order.push_back(2); });
    loop.run();
  });
  worker.join();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace evergreen
