// The clock every deadline in evergreen is computed with: steady_clock, or,
// on a thread running evergreen::testing::run_with_virtual_time(), that
// loop's virtual clock (loop/testing.h).
//
// loop_now() replaces std::chrono::steady_clock::now() wherever a deadline is
// armed on a loop timer or compared with one (sleep, Timeout, the timed waits
// of every primitive, call_later, the patched sleeps), so that all of them
// follow the virtual clock when there is one. Without one it costs a
// thread-local load and a branch that is always taken the same way.
//
// The pointer is per thread and set only by the loop that owns the virtual
// clock (VirtualClockScope, for the loop's lifetime): other threads (a
// ThreadPoolExecutor's workers, io's file pool) always see the real clock.
#ifndef EVERGREEN_LOOP_INTERNAL_LOOP_CLOCK_H_
#define EVERGREEN_LOOP_INTERNAL_LOOP_CLOCK_H_

#include <chrono>
#include <cstdint>
#include <type_traits>

#include "evergreen/loop/duration.h"

namespace evergreen::internal {

// A loop's virtual time: where it stands now, and where it started (for the
// patched wall-clock calls, which add the virtual time elapsed to the real
// wall-clock time at the start).
struct VirtualClock {
  TimePoint now;
  TimePoint start;
  // CLOCK_REALTIME when the virtual clock started, in nanoseconds.
  int64_t realtime_start_ns = 0;
};

// This thread's virtual clock, or null (the usual case).
inline constinit thread_local VirtualClock* this_thread_virtual_clock = nullptr;

inline TimePoint loop_now() {
  if (const VirtualClock* clock = this_thread_virtual_clock) [[unlikely]] {
    return clock->now;
  }
  return std::chrono::steady_clock::now();
}

// Clock::now(), except that steady_clock reads loop_now(): for the
// try_lock_until()-style members that take a time point of any clock.
template <class Clock>
auto now_of() {
  if constexpr (std::is_same_v<Clock, std::chrono::steady_clock>) {
    return loop_now();
  } else {
    return Clock::now();
  }
}

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_LOOP_CLOCK_H_
