// evergreen::lib::time: sleeps that park only the calling task, on a loop
// timer.
#include <cerrno>
#include <chrono>
#include <optional>

#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/patch/internal/cooperative_wait.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen::lib::time {
namespace {

namespace original = patch::original;
using patch_internal::WaitOutcome;

// Sleeps `task` for `duration`; returns the time left if a delivered
// exception cut it short, or nullopt if it slept in full.
std::optional<Duration> sleep_task(internal::BlockingContext& task, Duration duration) {
  TimePoint deadline = ::evergreen::internal::loop_now() + duration;
  if (patch_internal::sleep_until(task, deadline) != WaitOutcome::kInterrupted) {
    return std::nullopt;
  }
  Duration left = deadline - ::evergreen::internal::loop_now();
  return left > Duration::zero() ? left : Duration::zero();
}

}  // namespace

unsigned int sleep(unsigned int seconds) {
  internal::BlockingContext* task = patch_internal::current_task();
  if (task == nullptr) return original::sleep(seconds);
  internal::WaitLabel label(*task, "sleep");
  std::optional<Duration> left = sleep_task(*task, std::chrono::seconds(seconds));
  if (!left) return 0;
  // As glibc does: the unslept time rounded to the nearest second.
  return static_cast<unsigned int>(std::chrono::round<std::chrono::seconds>(*left).count());
}

int usleep(useconds_t microseconds) {
  internal::BlockingContext* task = patch_internal::current_task();
  if (task == nullptr) return original::usleep(microseconds);
  internal::WaitLabel label(*task, "usleep");
  if (sleep_task(*task, std::chrono::microseconds(microseconds))) {
    errno = EINTR;
    return -1;
  }
  return 0;
}

int nanosleep(const timespec* duration, timespec* remaining) {
  internal::BlockingContext* task = patch_internal::current_task();
  if (task == nullptr) return original::nanosleep(duration, remaining);
  internal::WaitLabel label(*task, "nanosleep");
  if (duration == nullptr) {
    errno = EFAULT;
    return -1;
  }
  if (duration->tv_sec < 0 || duration->tv_nsec < 0 || duration->tv_nsec >= 1'000'000'000) {
    errno = EINVAL;
    return -1;
  }
  // A century is forever here, and keeps the nanosecond arithmetic in range.
  constexpr time_t kLongestSeconds = 100LL * 365 * 24 * 3600;
  time_t seconds = duration->tv_sec < kLongestSeconds ? duration->tv_sec : kLongestSeconds;
  std::optional<Duration> left =
      sleep_task(*task, std::chrono::seconds(seconds) + Duration(duration->tv_nsec));
  if (!left) return 0;
  if (remaining != nullptr) {
    auto whole = std::chrono::floor<std::chrono::seconds>(*left);
    remaining->tv_sec = whole.count();
    remaining->tv_nsec = (*left - whole).count();
  }
  errno = EINTR;
  return -1;
}

int clock_gettime(clockid_t clock, timespec* now) {
  const internal::VirtualClock* virtual_clock = internal::this_thread_virtual_clock;
  if (virtual_clock == nullptr || clock != CLOCK_MONOTONIC || now == nullptr) {
    return original::clock_gettime(clock, now);
  }
  auto since_epoch = virtual_clock->now.time_since_epoch();
  auto whole = std::chrono::floor<std::chrono::seconds>(since_epoch);
  now->tv_sec = static_cast<time_t>(whole.count());
  now->tv_nsec = static_cast<long>((since_epoch - whole).count());
  return 0;
}

time_t time(time_t* now) {
  const internal::VirtualClock* virtual_clock = internal::this_thread_virtual_clock;
  if (virtual_clock == nullptr) return original::time(now);
  int64_t elapsed_ns = (virtual_clock->now - virtual_clock->start).count();
  time_t seconds = static_cast<time_t>((virtual_clock->realtime_start_ns + elapsed_ns) /
                                       1'000'000'000);
  if (now != nullptr) *now = seconds;
  return seconds;
}

}  // namespace evergreen::lib::time
