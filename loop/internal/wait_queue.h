// A FIFO of blocked contexts: the building block of every blocking primitive
// (Event, Lock, Queue, Channel, Future, stream reads).
//
// Rules that make the primitives built on it correct:
// - Waiters are woken in the order they started waiting.
// - A waiter that times out, or receives a kill/Timeout, leaves the queue
//   before the notifier can pick it, or is picked first; never both.
// - If a waiter is notified and receives an exception in the same loop turn,
//   the notification wins: wait() returns true and the exception stays pending
//   for the next suspension point. Whatever the notifier handed over (a permit,
//   an item) is therefore never lost.
#ifndef EVERGREEN_LOOP_INTERNAL_WAIT_QUEUE_H_
#define EVERGREEN_LOOP_INTERNAL_WAIT_QUEUE_H_

#include <cstddef>
#include <optional>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/intrusive_list.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen::internal {

class WaitQueue {
 public:
  struct Waiter : IntrusiveListNode<Waiter> {
    BlockingContext* context = nullptr;
    // Primitive-specific payload, e.g. where a channel receiver wants its item.
    void* data = nullptr;
    bool notified = false;
    WaitQueue* queue = nullptr;  // non-null while linked
  };

  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;
  // Waiters still blocked are detached; they stay blocked until killed.
  ~WaitQueue();

  // WaitQueue::wait()
  //
  // Blocks the calling context until notified (returns true) or until
  // `timeout` passes (returns false; a zero or negative timeout returns false
  // at once). Raises a kill or Timeout delivered while waiting. Throws
  // std::runtime_error inside a loop callback. `label` names the blocking
  // call for diagnostics, in the API's own words ("Queue::get"; see
  // wait_label.h); null when an enclosing WaitLabel already names it. Taking
  // it here, where the calling context is known anyway, keeps the label to a
  // few stores: a separate WaitLabel would look the context up again.
  bool wait(const char* label, std::optional<Duration> timeout = std::nullopt,
            void* data = nullptr);

  // WaitQueue::wait_uninterruptibly()
  //
  // Blocks the calling context until notified, like wait() without a timeout,
  // except that a kill or Timeout delivered meanwhile does not end the wait:
  // it stays pending (with its source, so a cancelled Timeout can still
  // withdraw it) and is raised at the caller's next suspension point. For
  // primitives that must restore a state before anything may propagate:
  // Condition::wait() re-acquiring its lock. Throws std::runtime_error inside
  // a loop callback, or in the main context when nothing could wake it.
  // `label` as for wait().
  void wait_uninterruptibly(const char* label, void* data = nullptr);

  // The longest-waiting waiter, or null.
  Waiter* front() const { return waiters_.front(); }

  // Wakes the longest-waiting waiter; returns whether there was one.
  bool notify_one();
  // Wakes `waiter`, which must be in this queue.
  void notify(Waiter* waiter);
  // Wakes every waiter; returns how many.
  size_t notify_all();

  bool empty() const { return waiters_.empty(); }
  size_t size() const { return size_; }

 private:
  struct Deadline;
  void link(Waiter* waiter);
  void unlink(Waiter* waiter);

  IntrusiveList<Waiter> waiters_;
  size_t size_ = 0;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_WAIT_QUEUE_H_
