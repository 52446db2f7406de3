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
// - a task that may spin (spin_if_idle: ThreadSafeQueue's consumers) whose
//   loop has nothing else ready and spins for cross-thread work
//   (LoopOptions::cross_thread_spin, on in a LoopGroup) spins on its own
//   waiter first, for at most that window (less if its deadline is sooner),
//   and parks only if nobody served it meanwhile. A waker on another thread
//   that finds it spinning just flips its spin state: no record is pushed,
//   the loop takes no turn, and the task goes on in place. That is the
//   cross-loop round trip's fast path: the waker's writes to the waiter and
//   the spinner's read of them are one cache line crossing each way. The
//   spin stops early when anything arrives for the loop from another thread
//   (a kill, a callback, another waiter's wake-up), so nothing waits behind
//   it; timers and file descriptors wait at most the window, as they do
//   while the loop itself spins.
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
// (DeferredWakes: flip the spin state, and push the record only if the
// waiter had stopped spinning), and is the waker's last touch of anything
// the waiter owns;
// the woken task then completes without taking the mutex again (the push
// published what the waker wrote under it). So a woken task may destroy the
// primitive at once, and the wake-up costs no mutex hand-over. A waiter that
// is served but resumed by something else first (a kill, its deadline) does
// not leave until its record was taken off its loop's queue: it takes the
// queued records itself, waiting out the instant between the waker's unlock
// and its push.
#ifndef EVERGREEN_SYNC_INTERNAL_CROSS_THREAD_WAITER_H_
#define EVERGREEN_SYNC_INTERNAL_CROSS_THREAD_WAITER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>

#include "evergreen/fiber/internal/cache_line.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/cross_thread_wake.h"
#include "evergreen/loop/internal/intrusive_list.h"

namespace evergreen::internal {

struct BlockingContext;
class CrossThreadQueue;
class Scheduler;

// Aligned to a cache line: what a waker writes (links, outcome, payload
// pointer) and the spin state the waiter watches share the first line, so a
// hand-off moves that one line to the waker and back.
class alignas(fiber_internal::kCacheLine) CrossThreadWaiter : public IntrusiveListNode<CrossThreadWaiter> {
 public:
  using List = IntrusiveList<CrossThreadWaiter>;
  enum class Outcome : uint8_t { kWaiting, kServed, kClosed };

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

 private:
  // A waiting task's spin state (see the file comment): kSpinning while it
  // spins on it, kParked once it parked (or never spun), kServed once a
  // waker on another thread found it spinning (and will not push `wake_`).
  enum class SpinState : uint8_t { kParked, kSpinning, kServed };

  bool wait_on_loop(std::unique_lock<std::mutex>& lock, List& list, BlockingContext& self,
                    std::optional<TimePoint> deadline);
  bool wait_on_thread(std::unique_lock<std::mutex>& lock, List& list,
                      std::optional<TimePoint> deadline);
  // Whether a task registering on `loop` should spin before parking.
  bool should_spin(const Scheduler& loop) const;
  // Spins (mutex released) until a waker flips kSpinning to kServed (returns
  // true), or until the window or `deadline` passes or work arrives for the
  // loop from another thread (returns false, the state set to kParked).
  bool spin_until_served(const Scheduler& loop, std::optional<TimePoint> deadline);
  // Leaving a served wait whose wake-up record was promised (wake_pushed_)
  // but not yet consumed: returns once the loop's queue no longer holds it.
  void await_record_released(BlockingContext& self);

  // The first cache line: written by the waker (or read by it in notify()).
  Outcome outcome_ = Outcome::kWaiting;
  std::atomic<SpinState> spin_state_{SpinState::kParked};
  // Set under the mutex by a waker that will push `wake_` once it released
  // the mutex: the waiter must see the record consumed before it may leave.
  bool wake_pushed_ = false;

 public:
  // Set by the primitive before wait(): whether this wait may spin (see the
  // file comment). A consumer waiting for an item should: its wake-up is
  // the latency of a cross-loop exchange. A producer waiting for room
  // should not: spinning would take each freed slot back at once, one item
  // per hand-off, where a parked producer lets the consumer drain a run of
  // items first (spinning producers, measured beside a brief lock spin,
  // cut single-item cross-loop throughput by up to half).
  bool spin_if_idle = false;
  // Primitive-specific payload: where a getter wants its item, the item a
  // putter offers.
  void* data = nullptr;

  // Room in the first line for a small payload (a getter's
  // std::optional<int>): a waker that writes it there and the waiter that
  // reads it move no line but this one. Raw storage: the primitive
  // constructs a trivially destructible object in it, or leaves it unused.
  static constexpr size_t kInlinePayloadSize = 8;
  void* inline_payload() { return inline_payload_; }

 private:
  alignas(8) unsigned char inline_payload_[kInlinePayloadSize];
  // The next waiter in a DeferredWakes (waker's thread only).
  CrossThreadWaiter* next_deferred_ = nullptr;
  // A waiting task or main context: its loop's queue (alive while the
  // waiter waits: a loop is destroyed only after its tasks ended). It also
  // tells a waker whether it runs on the waiter's loop.
  CrossThreadQueue* loop_queue_ = nullptr;
  // A waiting thread without a loop:
  std::condition_variable* thread_wake_ = nullptr;
  // The record a waker on another thread pushes to wake a parked task (on
  // the second line: only a parked waiter's wake-up touches it).
  CrossThreadWake wake_;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_SYNC_INTERNAL_CROSS_THREAD_WAITER_H_
