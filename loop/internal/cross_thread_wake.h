// CrossThreadWake: a request, from another thread, to resume one context
// parked on this loop; the record a cross-thread waiter (CrossThreadWaiter,
// sync/internal) keeps inside itself, so waking it allocates nothing and
// takes no lock beyond the one the waker already holds.
//
// Life of a record:
// - The waiting context fills `context` on its own loop thread before it
//   becomes visible to other threads (under the primitive's mutex).
// - A waker on another thread pushes it onto the loop's CrossThreadQueue
//   (push_wake: one compare-and-swap on the queue's head) and from then on
//   never touches it again: the waiter may be gone the moment the loop has
//   taken it.
// - The loop takes every pushed record at once (take_wakes) and hands the
//   chain to wake_arrivals(), which marks each `consumed` and wakes its
//   context: the context itself goes on the ready queue, with no callback
//   record in between.
// - A waiter that must leave while its record may still be (or be about to
//   be) queued (it was served, but woke for a kill or timeout before the
//   loop took the record) takes the queue's records itself with
//   wake_arrivals(..., itself) until its own came through, so no record
//   ever outlives its waiter in the queue. destroy() marks whatever is still
//   queued consumed when it closes the queue; a push refused after that
//   marks its record consumed.
#ifndef EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_WAKE_H_
#define EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_WAKE_H_

#include <atomic>

namespace evergreen::internal {

struct BlockingContext;

struct CrossThreadWake {
  // The context to resume; set by its own loop thread before the record is
  // published.
  BlockingContext* context = nullptr;
  // The next record in the queue; written by the pushing thread.
  CrossThreadWake* next = nullptr;
  // Set by the loop thread when it took the record off the queue (or by the
  // waker when the loop refused it: destroyed): from then on everything the
  // waker wrote before pushing is visible to the waiter, and nothing touches
  // the record any more.
  std::atomic<bool> consumed{false};
};

// Loop thread: marks each record of `chain` (from CrossThreadQueue::
// take_wakes(), oldest first) consumed and wakes its context, except
// `running` (the context calling this, which is awake already). Never
// throws.
void wake_arrivals(CrossThreadWake* chain, const BlockingContext* running);

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_WAKE_H_
