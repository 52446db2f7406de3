// evergreen/loop/duration.h
//
// The library's time types, and the conversion that lets every blocking call
// take any std::chrono::duration:
//
//   sleep(0.5s);                      // std::chrono::duration<long double>
//   Timeout deadline(1500ms);
//   queue.get(true, std::chrono::duration<double, std::milli>(2.5));
//
// to_duration() rounds away from zero to whole nanoseconds, so a duration
// that is not zero never becomes zero (0.5 ns waits 1 ns, and -0.5 ns stays
// negative: "never" for a Timeout); a floating-point value within its own
// rounding error (a relative 1e-12) of a whole count is that count (0.002 s
// is 2 ms, not 2 ms + 1 ns). It saturates at kLongestDuration (a
// century), so a deadline computed from it cannot overflow the clock: a
// longer duration, or an infinite one, waits "forever" in practice. A NaN
// duration throws std::invalid_argument.
//
// The chrono literals (1s, 250ms) are std::chrono_literals'; namespace
// evergreen does not re-export them:
//   using namespace std::chrono_literals;
#ifndef EVERGREEN_LOOP_DURATION_H_
#define EVERGREEN_LOOP_DURATION_H_

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <type_traits>

namespace evergreen {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;

// What to_duration() saturates at: far beyond any real wait, far below what
// steady_clock::now() + it would overflow.
inline constexpr Duration kLongestDuration = std::chrono::hours(24 * 365 * 100);

// to_duration()
//
// `d` as a Duration, rounded away from zero and saturated at
// ±kLongestDuration (see the file comment). Throws std::invalid_argument for
// a NaN.
template <class Rep, class Period>
constexpr Duration to_duration(std::chrono::duration<Rep, Period> d) {
  // Compared in long double nanoseconds: exact enough to decide saturation
  // for any Rep and Period.
  using Wide = std::chrono::duration<long double, std::nano>;
  const Wide wide = std::chrono::duration_cast<Wide>(d);
  if (wide.count() != wide.count()) {
    throw std::invalid_argument("evergreen: a duration that is not a number (NaN)");
  }
  if (wide >= Wide(kLongestDuration)) return kLongestDuration;
  if (wide <= -Wide(kLongestDuration)) return -kLongestDuration;
  if constexpr (std::is_floating_point_v<Rep>) {
    // A decimal like 0.002 s is not exact in binary (it is 2000000.0000000004
    // ns): within a relative 1e-12 of a whole, nonzero nanosecond count, the
    // value means that count, not the next one.
    const long double ns = wide.count();
    const long double nearest = ns >= 0 ? static_cast<long double>(static_cast<int64_t>(ns + 0.5L))
                                        : static_cast<long double>(static_cast<int64_t>(ns - 0.5L));
    const long double error = ns > nearest ? ns - nearest : nearest - ns;
    const long double magnitude = ns >= 0 ? ns : -ns;
    if (nearest != 0 && error <= magnitude * 1e-12L) return Duration(static_cast<int64_t>(nearest));
    return ns >= 0 ? std::chrono::ceil<Duration>(wide) : std::chrono::floor<Duration>(wide);
  } else {
    return d.count() >= 0 ? std::chrono::ceil<Duration>(d) : std::chrono::floor<Duration>(d);
  }
}

// to_time_point()
//
// A steady_clock time point of any precision as a TimePoint, rounded up
// (a deadline is never moved earlier).
template <class D>
constexpr TimePoint to_time_point(std::chrono::time_point<std::chrono::steady_clock, D> t) {
  return std::chrono::ceil<Duration>(t);
}

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_DURATION_H_
