#include "evergreen/loop/internal/wait_queue.h"

#include "absl/cleanup/cleanup.h"
#include "evergreen/loop/internal/coarse_clock.h"
#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/scheduler.h"

namespace evergreen::internal {

WaitQueue::~WaitQueue() {
  while (Waiter* waiter = waiters_.front()) unlink(waiter);
}

void WaitQueue::link(Waiter* waiter) {
  waiter->queue = this;
  waiters_.push_back(waiter);
  ++size_;
}

void WaitQueue::unlink(Waiter* waiter) {
  waiters_.remove(waiter);
  waiter->queue = nullptr;
  --size_;
}

// Leaves the queue when the deadline passes, so a later notify skips it.
struct WaitQueue::Deadline final : TimerEntry {
  void fire() override {
    expired = true;
    if (waiter->queue != nullptr) waiter->queue->unlink(waiter);
    wake(*wakes);
  }
  Waiter* waiter = nullptr;
  bool expired = false;
};

namespace {

// WaitLabel's work for a single wait, done in place: the label's two stores
// and the turn time's load, with no second context lookup and no waits_for
// (a WaitQueue does not know whom it waits for; a WaitLabel that does sets it
// and clears it again). Returns whether this wait set the label, so that it
// clears it when the wait ends; an enclosing label holds otherwise.
inline bool begin_label(BlockingContext& self, const char* label) {
  if (label == nullptr || self.waiting_on != nullptr) return false;
  self.waiting_on = label;
  self.waiting_since = self.task != nullptr ? self.loop->turn_started() : coarse_steady_now();
  return true;
}

}  // namespace

bool WaitQueue::wait(const char* label, std::optional<Duration> timeout, void* data) {
  BlockingContext& self = current_blocking_context();
  if (timeout && *timeout <= Duration::zero()) return false;
  // An exception delivered in the turn this context was last notified stayed
  // pending (the notification won); this is its next suspension point. Parked
  // first, it would wait unseen until something else woke the context.
  if (self.pending) raise_pending(self);

  const bool labelled = begin_label(self, label);
  Waiter waiter;
  waiter.context = &self;
  waiter.data = data;
  link(&waiter);
  absl::Cleanup leave = [&] {
    if (waiter.queue != nullptr) waiter.queue->unlink(&waiter);
    if (labelled) self.waiting_on = nullptr;
  };

  if (!timeout) {
    // No deadline to arm and disarm: most waits (a channel, a lock, a join).
    for (;;) {
      park(self);
      if (waiter.notified) return true;
      raise_pending(self);
    }
  }

  Scheduler& loop = *self.loop;
  Deadline deadline;
  deadline.waiter = &waiter;
  deadline.wakes = &self;
  loop.add_timer(&deadline, ::evergreen::internal::loop_now() + *timeout);
  absl::Cleanup disarm = [&] {
    if (deadline.armed()) loop.remove_timer(&deadline);
  };
  for (;;) {
    park(self);
    if (waiter.notified) return true;
    raise_pending(self);
    if (deadline.expired) return false;
  }
}

void WaitQueue::wait_uninterruptibly(const char* label, void* data) {
  BlockingContext& self = current_blocking_context();
  const bool labelled = begin_label(self, label);
  Waiter waiter;
  waiter.context = &self;
  waiter.data = data;
  link(&waiter);
  absl::Cleanup leave = [&] {
    if (waiter.queue != nullptr) waiter.queue->unlink(&waiter);
    if (labelled) self.waiting_on = nullptr;
  };
  // A delivery wakes us without notifying: leave it pending and park again.
  do {
    park(self);
  } while (!waiter.notified);
}

void WaitQueue::notify(Waiter* waiter) {
  unlink(waiter);
  waiter->notified = true;
  wake(*waiter->context);
}

bool WaitQueue::notify_one() {
  Waiter* first = waiters_.front();
  if (first == nullptr) return false;
  notify(first);
  return true;
}

size_t WaitQueue::notify_all() {
  size_t count = 0;
  while (Waiter* first = waiters_.front()) {
    notify(first);
    ++count;
  }
  return count;
}

}  // namespace evergreen::internal
