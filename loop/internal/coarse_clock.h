// The steady clock at the resolution of the kernel's tick (a few
// milliseconds), for diagnostics that ask "for how long", never for timers.
// CLOCK_MONOTONIC_COARSE counts from the same origin as steady_clock
// (CLOCK_MONOTONIC) and is read without the precise clock's counter read.
#ifndef EVERGREEN_LOOP_INTERNAL_COARSE_CLOCK_H_
#define EVERGREEN_LOOP_INTERNAL_COARSE_CLOCK_H_

#include <time.h>

#include <chrono>

namespace evergreen::internal {

inline std::chrono::steady_clock::time_point coarse_steady_now() {
  timespec coarse;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &coarse);
  return std::chrono::steady_clock::time_point(std::chrono::seconds(coarse.tv_sec) +
                                               std::chrono::nanoseconds(coarse.tv_nsec));
}

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_COARSE_CLOCK_H_
