// evergreen/sync/condition.h
//
// Condition: a condition variable (threading.Condition) over a Semaphore, a
// Lock, a BoundedSemaphore or an RLock (its own RLock by default).
//
//   Condition ready;
//   std::deque<Job> jobs;
//   // consumer                                 // producer
//   std::unique_lock<Condition> hold(ready);     std::lock_guard<Condition> hold(ready);
//   while (jobs.empty()) ready.wait();           jobs.push_back(job);
//   Job job = pop(jobs);                         ready.notify();
//
// Guarantees:
// - wait() releases the lock (every level of a recursively held RLock),
//   blocks, then re-acquires it (restoring every level) before returning.
// - Waiters are woken in the order they began waiting; notify(n) wakes at most
//   n, notify_all() all. A woken waiter still queues for the lock, behind any
//   task already waiting for it.
// - wait() always returns, or throws, holding the lock as it was held on
//   entry, so a std::unique_lock around it stays balanced: a kill or Timeout
//   delivered while waiting for the notification propagates only after the
//   lock is re-acquired, and one delivered while re-acquiring is raised at the
//   task's next suspension point.
// - Single-loop object: it belongs to the thread that first uses it; a member
//   called from another thread throws std::logic_error naming both threads
//   (builds without NDEBUG).
#ifndef EVERGREEN_SYNC_CONDITION_H_
#define EVERGREEN_SYNC_CONDITION_H_

#include <chrono>
#include <optional>

#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/thread_affinity.h"
#include "evergreen/loop/internal/wait_queue.h"
#include "evergreen/sync/locks.h"

namespace evergreen {

class Condition {
 public:
  // A condition over a reentrant lock of its own.
  Condition();
  // A condition over `lock` (a Semaphore, Lock or BoundedSemaphore), which
  // must outlive it. It counts as held while it has no free permit.
  explicit Condition(Semaphore& lock);
  // A condition over `lock`, which must outlive it.
  explicit Condition(RLock& lock);
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // Condition::acquire() / release()
  //
  // Acquire / release the underlying lock, exactly as its own acquire() and
  // release() do (same blocking, return value and errors).
  bool acquire(bool blocking = true, std::optional<Duration> timeout = std::nullopt);
  // Any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    return acquire(blocking, std::optional<Duration>(to_duration(timeout)));
  }
  void release();

  // Lockable interface, for std::lock_guard, std::unique_lock, std::scoped_lock.
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(false); }

  // Condition::wait()
  //
  // Releases the lock, blocks until notify()/notify_all() wakes this waiter or
  // `timeout` passes, then re-acquires the lock (waiting for it as long as
  // needed). Returns true if notified, false on timeout. Throws
  // std::runtime_error if the caller does not hold the lock, or in a loop
  // callback. A kill or Timeout delivered while waiting propagates once the
  // lock is held again.
  bool wait(std::optional<Duration> timeout = std::nullopt);
  // Any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return wait(std::optional<Duration>(to_duration(timeout)));
  }

  // Condition::wait_for()
  //
  // Waits until `predicate()` is true (checked under the lock first, then
  // after each wake-up) or `timeout` passes overall; returns the predicate's
  // last value. Same requirements and errors as wait().
  template <class Predicate>
  bool wait_for(Predicate predicate, std::optional<Duration> timeout = std::nullopt);
  // Any std::chrono::duration, rounded up.
  template <class Predicate, class Rep, class Period>
  bool wait_for(Predicate predicate, std::chrono::duration<Rep, Period> timeout) {
    return wait_for(std::move(predicate), std::optional<Duration>(to_duration(timeout)));
  }

  // Condition::notify()
  //
  // Wakes the `n` longest-waiting waiters (fewer if fewer wait). Never blocks.
  // Throws std::runtime_error if the caller does not hold the lock.
  void notify(int n = 1);

  // Condition::notify_all()
  //
  // Wakes every waiter. Throws std::runtime_error if the caller does not hold
  // the lock.
  void notify_all();

 private:
  bool held_by_caller() const;
  void require_held(const char* operation) const;
  // Takes the lock back after wait(); `levels` is what RLock::release_all()
  // returned (unused for a semaphore).
  void reacquire(int levels);

  std::optional<RLock> own_lock_;
  RLock* rlock_ = nullptr;
  Semaphore* semaphore_ = nullptr;
  internal::WaitQueue waiters_;
  internal::ThreadAffinity affinity_;
};

template <class Predicate>
bool Condition::wait_for(Predicate predicate, std::optional<Duration> timeout) {
  std::optional<TimePoint> deadline;
  if (timeout) deadline = ::evergreen::internal::loop_now() + *timeout;
  bool result = predicate();
  while (!result) {
    std::optional<Duration> remaining;
    if (deadline) {
      remaining = *deadline - ::evergreen::internal::loop_now();
      if (*remaining <= Duration::zero()) break;
    }
    wait(remaining);
    result = predicate();
  }
  return result;
}

}  // namespace evergreen

#endif  // EVERGREEN_SYNC_CONDITION_H_
