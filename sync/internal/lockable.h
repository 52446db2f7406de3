// The standard library's lock interfaces for a lock whose primitive is
// `bool acquire(bool blocking, std::optional<Duration> timeout)` plus
// `void release()` (Semaphore, RLock): derive from Lockable<YourLock>.
//
// Lockable (std::lock_guard, std::unique_lock, std::scoped_lock): lock(),
// unlock(), try_lock(). Timed Lockable (std::unique_lock::try_lock_for/until):
// acquire(true, timeout), with any std::chrono::duration (rounded up, see
// loop/duration.h) or a time point of any clock (the time left until it,
// read once; a steady_clock one follows the loop's clock, see loop_clock.h).
// And acquire() with any std::chrono::duration: the derived class brings it
// in with `using Lockable::acquire;` beside its own acquire().
#ifndef EVERGREEN_SYNC_INTERNAL_LOCKABLE_H_
#define EVERGREEN_SYNC_INTERNAL_LOCKABLE_H_

#include <chrono>
#include <optional>

#include "evergreen/loop/duration.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/loop_clock.h"

namespace evergreen::internal {

template <class Lock>
class Lockable {
 public:
  void lock() { self().acquire(true, std::nullopt); }
  void unlock() { self().release(); }
  bool try_lock() { return self().acquire(false, std::nullopt); }

  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return self().acquire(true, std::optional<Duration>(to_duration(timeout)));
  }
  template <class Clock, class D>
  bool try_lock_until(const std::chrono::time_point<Clock, D>& deadline) {
    return try_lock_for(deadline - now_of<Clock>());
  }

  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    return self().acquire(blocking, std::optional<Duration>(to_duration(timeout)));
  }

 protected:
  Lockable() = default;
  ~Lockable() = default;

 private:
  Lock& self() { return static_cast<Lock&>(*this); }
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_SYNC_INTERNAL_LOCKABLE_H_
