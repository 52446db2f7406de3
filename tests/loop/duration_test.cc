// Any std::chrono::duration wherever a Duration is: to_duration() rounds away
// from zero (never down to zero) and saturates; Timeout also takes a deadline.
#include "evergreen/loop/duration.h"

#include <chrono>
#include <limits>
#include <optional>
#include <ratio>
#include <stdexcept>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;
using testing::LoopTest;
using DurationTest = LoopTest;
using DoubleSeconds = std::chrono::duration<double>;
using DoubleNanoseconds = std::chrono::duration<double, std::nano>;
using Picoseconds = std::chrono::duration<int64_t, std::pico>;

TEST(ToDuration, RoundsAwayFromZeroSoNothingNonzeroBecomesZero) {
  EXPECT_EQ(to_duration(DoubleNanoseconds(0.5)), 1ns);
  EXPECT_EQ(to_duration(DoubleNanoseconds(1e-9)), 1ns);
  EXPECT_EQ(to_duration(DoubleNanoseconds(-0.5)), -1ns);
  EXPECT_EQ(to_duration(Picoseconds(1)), 1ns);
  EXPECT_EQ(to_duration(Picoseconds(1001)), 2ns);
  EXPECT_EQ(to_duration(Picoseconds(-1)), -1ns);
  EXPECT_EQ(to_duration(DoubleNanoseconds(0.0)), 0ns);
  EXPECT_EQ(to_duration(DoubleNanoseconds(2.25)), 3ns);
  EXPECT_EQ(to_duration(DoubleNanoseconds(-2.25)), -3ns);
}

TEST(ToDuration, DecimalFractionsInexactInBinaryKeepTheirValue) {
  EXPECT_EQ(to_duration(DoubleSeconds(0.002)), 2ms);
  EXPECT_EQ(to_duration(DoubleSeconds(0.1)), 100ms);
  EXPECT_EQ(to_duration(DoubleSeconds(-0.1)), -100ms);
  EXPECT_EQ(to_duration(std::chrono::duration<float>(0.25f)), 250ms);
}

TEST(ToDuration, KeepsExactValues) {
  EXPECT_EQ(to_duration(1.5s), 1500ms);
  EXPECT_EQ(to_duration(DoubleSeconds(0.25)), 250ms);
  EXPECT_EQ(to_duration(250ms), 250ms);
  EXPECT_EQ(to_duration(std::chrono::minutes(2)), 120s);
  EXPECT_EQ(to_duration(-3ms), -3ms);
}

TEST(ToDuration, SaturatesInsteadOfOverflowing) {
  EXPECT_EQ(to_duration(std::chrono::hours::max()), kLongestDuration);
  EXPECT_EQ(to_duration(std::chrono::hours::min()), -kLongestDuration);
  EXPECT_EQ(to_duration(DoubleSeconds(std::numeric_limits<double>::infinity())), kLongestDuration);
  EXPECT_EQ(to_duration(DoubleSeconds(1e300)), kLongestDuration);
  // A deadline from it stays in the future.
  EXPECT_GT(std::chrono::steady_clock::now() + to_duration(std::chrono::hours::max()),
            std::chrono::steady_clock::now());
}

TEST(ToDuration, NanThrowsInvalidArgument) {
  EXPECT_THROW(to_duration(DoubleSeconds(std::numeric_limits<double>::quiet_NaN())),
               std::invalid_argument);
}

TEST_F(DurationTest, SleepTakesAFloatingPointDuration) {
  auto start = std::chrono::steady_clock::now();
  sleep(DoubleSeconds(0.002));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 2ms);
  sleep(DoubleNanoseconds(0.5));  // one nanosecond: not "yield forever", not zero
}

TEST_F(DurationTest, TimeoutTakesAFloatingPointDuration) {
  bool timed_out = false;
  try {
    Timeout timeout(DoubleSeconds(0.002));
    EXPECT_EQ(timeout.duration(), std::optional<Duration>(2ms));
    sleep(10s);
  } catch (const Timeout&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
}

TEST_F(DurationTest, TimeoutTakesADeadline) {
  bool timed_out = false;
  auto start = std::chrono::steady_clock::now();
  try {
    Timeout timeout(start + 3ms);
    sleep(10s);
  } catch (const Timeout&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 3ms);
}

TEST_F(DurationTest, TimeoutWithAPassedDeadlineFiresAtTheFirstSuspension) {
  bool timed_out = false;
  try {
    Timeout timeout(std::chrono::steady_clock::now() - 1s);  // not "never", as -1s would be
    sleep(10s);
  } catch (const Timeout&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
}

TEST_F(DurationTest, TimeoutTakesADeadlineOfAnyPrecision) {
  bool timed_out = false;
  try {
    Timeout timeout(
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()) +
        2ms);
    sleep(10s);
  } catch (const Timeout&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
}

TEST_F(DurationTest, JoinCallLaterAndWithTimeoutTakeAnyDuration) {
  auto task = spawn([] { sleep(60s); });
  EXPECT_FALSE(task->join(DoubleSeconds(0.001)));
  task->kill();
  EXPECT_TRUE(task->join(DoubleSeconds(10)));

  bool called = false;
  loop().call_later(DoubleSeconds(0.001), [&] { called = true; });
  sleep(20ms);
  EXPECT_TRUE(called);

  std::optional<int> result = with_timeout(DoubleSeconds(0.001), [] {
    sleep(10s);
    return 1;
  });
  EXPECT_FALSE(result.has_value());
}

}  // namespace
}  // namespace evergreen
