// CrossThreadWaiter: one blocked call on a primitive that several threads
// share (ThreadSafeQueue). The primitive guards its state and its lists of
// waiters with one std::mutex; a waiter is linked in one of those lists while
// it blocks.
//
// Who waits decides how it blocks:
// - a task, or the main context of a thread with a loop, parks on its own
//   loop (other tasks of that loop go on running), with a keep-alive so the
//   loop does not end under it. A waker on another thread pushes the
//   waiter's own CrossThreadWake record onto that loop's queue (one
//   compare-and-swap, no allocation, no lock; loop/internal/
//   cross_thread_wake.h) and the loop puts the task straight on its ready
//   queue. A waker on the same loop wakes it directly.
// - a thread without a loop blocks its OS thread on a condition variable of
//   its own (so waiters are served strictly in list order).
//
// The hand-off rule that keeps items from being lost or delivered twice:
// a waker picks a waiter, hands it what it waits for (an item, a slot) and
// unlinks it, all under the mutex. A waiter that times out or receives a kill
// or Timeout takes the mutex and, if it is still linked, unlinks itself and
// has taken nothing; if it was already served, the service wins: the call
// completes and the exception stays pending for the task's next suspension
// point. Either way exactly one side decides, under the mutex.
//
// Waking a task on another loop happens after the waker released the mutex
// (DeferredWakes), and is the waker's last touch of anything the waiter owns;
// the woken task then completes without taking the mutex again (the push
// published what the waker wrote under it). So a woken task may destroy the
// primitive at once, and the wake-up costs no mutex hand-over. A waiter that
// is served but resumed by something else first (a kill, its deadline) does
// not leave until its record was taken off its loop's queue: it takes the
// queued records itself, waiting out the instant between the waker's unlock
// and its push.
#ifndef EVERGREEN_SYNC_INTERNAL_CROSS_THREAD_WAITER_H_
#define EVERGREEN_SYNC_INTERNAL_CROSS_THREAD_WAITER_H_

#include <condition_variable>
#include <mutex>
#include <optional>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/cross_thread_wake.h"
#include "evergreen/loop/internal/intrusive_list.h"

namespace evergreen::internal {

struct BlockingContext;
class CrossThreadQueue;
class Scheduler;

class CrossThreadWaiter : public IntrusiveListNode<CrossThreadWaiter> {
 public:
  using List = IntrusiveList<CrossThreadWaiter>;
  enum class Outcome { kWaiting, kServed, kClosed };

  // Wake-ups of waiters on other loops that notify() decided under the
  // mutex; they are sent when this object is destroyed. Declare it before
  // the lock guard, so it is destroyed (and sends) after the mutex is
  // released.
  class DeferredWakes {
   public:
    DeferredWakes() = default;
    DeferredWakes(const DeferredWakes&) = delete;
    DeferredWakes& operator=(const DeferredWakes&) = delete;
    ~DeferredWakes();

   private:
    friend class CrossThreadWaiter;
    CrossThreadWaiter* first_ = nullptr;
    CrossThreadWaiter* last_ = nullptr;
  };

  CrossThreadWaiter() = default;
  CrossThreadWaiter(const CrossThreadWaiter&) = delete;
  CrossThreadWaiter& operator=(const CrossThreadWaiter&) = delete;

  // CrossThreadWaiter::wait()
  //
  // Links this waiter at the back of `list` and blocks the caller until a
  // waker calls notify() (returns true; outcome() says why), or until
  // `deadline` passes (returns false, unlinked). `lock` holds the primitive's
  // mutex on entry; on return it holds it again, except after a task was
  // served and woken by a waker on another thread (returns true with `lock`
  // released: what the waker handed over may be read without it). A kill or
  // Timeout delivered to a waiting task unlinks it and is raised, unless it
  // was notified first. `what` names the call for errors
  // ("ThreadSafeQueue::get"). Throws std::runtime_error inside a loop
  // callback, where blocking would stall the loop.
  bool wait(std::unique_lock<std::mutex>& lock, List& list, std::optional<TimePoint> deadline,
            const char* what);

  // CrossThreadWaiter::notify()
  //
  // With the mutex held, by the waker: unlinks the waiter from `list`,
  // records `outcome` and wakes the waiter wherever it blocks; a waiter on
  // another loop is woken when `wakes` is destroyed, after the mutex is
  // released.
  void notify(List& list, Outcome outcome, DeferredWakes& wakes);

  Outcome outcome() const { return outcome_; }

  // Primitive-specific payload: where a getter wants its item, the item a
  // putter offers.
  void* data = nullptr;

 private:
  bool wait_on_loop(std::unique_lock<std::mutex>& lock, List& list, BlockingContext& self,
                    std::optional<TimePoint> deadline);
  bool wait_on_thread(std::unique_lock<std::mutex>& lock, List& list,
                      std::optional<TimePoint> deadline);
  // Leaving a served wait whose wake-up record was promised (wake_pushed_)
  // but not yet consumed: returns once the loop's queue no longer holds it.
  void await_record_released(BlockingContext& self);

  Outcome outcome_ = Outcome::kWaiting;
  // A waiting task or main context: its loop, that loop's queue (alive while
  // the waiter waits: a loop is destroyed only after its tasks ended) and the
  // record a waker on another thread pushes.
  Scheduler* loop_ = nullptr;
  CrossThreadQueue* loop_queue_ = nullptr;
  CrossThreadWake wake_;
  // Set under the mutex by a waker that will push `wake_` once it released
  // the mutex: the waiter must see the record consumed before it may leave.
  bool wake_pushed_ = false;
  // The next waiter in a DeferredWakes (waker's thread only).
  CrossThreadWaiter* next_deferred_ = nullptr;
  // A waiting thread without a loop:
  std::condition_variable* thread_wake_ = nullptr;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_SYNC_INTERNAL_CROSS_THREAD_WAITER_H_
