// evergreen/sync/locks.h
//
// Cooperative locks with the semantics of Python's threading module:
// Semaphore, BoundedSemaphore, Lock and RLock. They block only the calling
// task (or the thread's main context, whose first blocking call runs the
// loop), never the thread.
//
//   Lock lock;
//   {
//     std::lock_guard<Lock> hold(lock);   // or std::unique_lock / std::scoped_lock
//     ...                                 // may block: other tasks run meanwhile
//   }
//
// Guarantees, for every type here:
// - Blocked acquirers are served in FIFO order: release() wakes exactly the
//   longest-waiting one.
// - Hand-off: release() with a waiter gives the permit (or ownership)
//   directly to that waiter, so a task that calls acquire() later cannot
//   take it first.
// - A kill or Timeout delivered while blocked in acquire() makes the task
//   leave the queue without the permit and propagates from acquire(). If the
//   permit was handed over in the same loop turn, acquire() returns true (the
//   permit is never lost) and the exception is raised at the task's next
//   suspension point.
// - An acquire() that can succeed at once never suspends, so it works inside
//   loop callbacks too; one that would block there throws std::runtime_error.
// - Single-loop objects: each belongs to the thread that first uses it; a
//   member called from another thread throws std::logic_error naming both
//   threads (builds without NDEBUG).
//
// Taking several locks at once: std::scoped_lock(a, b) (std::lock) works, but
// its deadlock avoidance is "block on one, try_lock the others, back off and
// retry". With FIFO hand-off a backed-off lock goes to a waiter that has not
// run yet, so when three or more tasks take the same locks in *different*
// orders, each retry's try_lock can fail forever (a livelock; measured: one
// critical section, then none). Take multiple locks in one consistent order
// (std::scoped_lock with the same argument order everywhere is fine).
#ifndef EVERGREEN_SYNC_LOCKS_H_
#define EVERGREEN_SYNC_LOCKS_H_

#include <chrono>
#include <optional>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/thread_affinity.h"
#include "evergreen/loop/internal/wait_queue.h"

namespace evergreen {

class Condition;

// Semaphore
//
// A counter of permits: acquire() takes one, blocking while there is none;
// release() returns one. Also a Lockable (lock/unlock/try_lock).
class Semaphore {
 public:
  // Starts with `value` permits. Throws std::invalid_argument if negative.
  Semaphore(int value = 1);  // NOLINT(google-explicit-constructor): API.md signature
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Semaphore::acquire()
  //
  // Takes a permit. If none is free: with `blocking` false returns false at
  // once (`timeout` is then ignored); otherwise blocks until release() hands
  // one over (returns true) or `timeout` passes (returns false; a zero or
  // negative timeout does not block). Raises a kill or Timeout delivered while
  // blocked; throws std::runtime_error if it would block in a loop callback.
  bool acquire(bool blocking = true, std::optional<Duration> timeout = std::nullopt);

  // Semaphore::release()
  //
  // Returns a permit: to the longest-waiting acquirer if any, else to the
  // counter. Never blocks. BoundedSemaphore and Lock throw on over-release
  // (see below).
  void release();

  // Lockable interface, for std::lock_guard, std::unique_lock, std::scoped_lock.
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(false); }
  // Timed Lockable interface, for std::unique_lock::try_lock_for/until:
  // acquire(true, timeout), with any std::chrono::duration (rounded up) or
  // a time point of any clock (the time left until it, read once).
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return acquire(true, to_duration(timeout));
  }
  template <class Clock, class D>
  bool try_lock_until(const std::chrono::time_point<Clock, D>& deadline) {
    return try_lock_for(deadline - internal::now_of<Clock>());
  }
  // acquire() with any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    return acquire(blocking, std::optional<Duration>(to_duration(timeout)));
  }

  // Permits free now (0 while any task waits).
  int value() const {
    check_thread("value");
    return value_;
  }

 protected:
  // What release() does when the counter would pass its initial value.
  enum class Bound {
    kUnbounded,  // counts on (Semaphore)
    kInvalid,    // std::invalid_argument (BoundedSemaphore)
    kUnlocked,   // std::runtime_error: releasing an unlocked Lock
  };
  Semaphore(int value, Bound bound);

 private:
  friend class Condition;
  // Condition::wait() re-acquiring: blocks until a permit is ours; a kill or
  // Timeout meanwhile stays pending instead of interrupting.
  void acquire_uninterruptibly();
  [[noreturn]] void throw_over_release() const;
  // What a task blocked in acquire() waits on, for diagnostics (debug.h).
  const char* acquire_label() const;
  // Throws std::logic_error off the owning thread (see ThreadAffinity).
  void check_thread(const char* member) const;

  int value_;
  const int initial_value_;
  const Bound bound_;
  internal::WaitQueue waiters_;
  internal::ThreadAffinity affinity_;
};

// BoundedSemaphore
//
// A Semaphore whose release() throws std::invalid_argument when it would
// raise the counter past its initial value: releasing more often than
// acquiring is a bug.
class BoundedSemaphore : public Semaphore {
 public:
  // Throws std::invalid_argument if `value` is negative.
  explicit BoundedSemaphore(int value = 1) : Semaphore(value, Bound::kInvalid) {}
};

// Lock
//
// A Semaphore(1): a mutex any task may release. Not reentrant: a task that
// acquires a Lock it already holds blocks (forever, unless a timeout, kill or
// another task's release() ends the wait), as Python's threading.Lock does.
// Use RLock for reentrancy. release() of an unlocked Lock throws
// std::runtime_error.
class Lock : public Semaphore {
 public:
  Lock() : Semaphore(1, Bound::kUnlocked) {}

  // Whether some task holds the lock.
  bool locked() const { return value() == 0; }
};

// RLock
//
// A reentrant lock: owned by the task (or main context) that acquired it,
// which may acquire it again; it is free once released as many times as
// acquired. The owner is the calling task, so acquire() cannot be used from a
// loop callback (std::runtime_error).
class RLock {
 public:
  RLock() = default;
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;

  // RLock::acquire()
  //
  // If the caller owns the lock, adds a level and returns true. If the lock is
  // free, takes it. Otherwise: with `blocking` false returns false; else blocks
  // until the owner's last release() hands the lock over (returns true) or
  // `timeout` passes (returns false). Raises a kill or Timeout delivered while
  // blocked. Throws std::runtime_error in a loop callback.
  bool acquire(bool blocking = true, std::optional<Duration> timeout = std::nullopt);

  // RLock::release()
  //
  // Removes one level; after the last, hands the lock to the longest-waiting
  // acquirer, if any. Throws std::runtime_error if the caller does not own the
  // lock. Never blocks.
  void release();

  // Lockable interface, for std::lock_guard, std::unique_lock, std::scoped_lock.
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(false); }
  // Timed Lockable interface, for std::unique_lock::try_lock_for/until:
  // acquire(true, timeout), with any std::chrono::duration (rounded up) or
  // a time point of any clock (the time left until it, read once).
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return acquire(true, to_duration(timeout));
  }
  template <class Clock, class D>
  bool try_lock_until(const std::chrono::time_point<Clock, D>& deadline) {
    return try_lock_for(deadline - internal::now_of<Clock>());
  }
  // acquire() with any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    return acquire(blocking, std::optional<Duration>(to_duration(timeout)));
  }

  // Whether any task owns the lock.
  bool locked() const {
    affinity_.check(this, "RLock", "locked");
    return owner_ != nullptr;
  }

 private:
  friend class Condition;
  // Whether the calling task (or main context) owns the lock.
  bool owned_by_caller() const;
  // Condition::wait(): releases every level at once and returns how many
  // there were / takes the lock back (uninterruptibly) at that many levels.
  int release_all();
  void acquire_restore(int levels);
  // Passes the free lock to the longest waiter, or leaves it unowned.
  void hand_off();

  internal::BlockingContext* owner_ = nullptr;
  int levels_ = 0;
  internal::WaitQueue waiters_;
  internal::ThreadAffinity affinity_;
};

}  // namespace evergreen

#endif  // EVERGREEN_SYNC_LOCKS_H_
