// Names the blocking call a context is inside, for diagnostics (debug.h).
// A primitive whose wait is a single WaitQueue::wait() passes the name there
// instead (getters_.wait("Queue::get", timeout, &slot)); a WaitLabel names a
// call made of several waits, or one that knows whom it waits for:
//
//   internal::WaitLabel label("Future::get");
//   ... one or more waits ...
//
// The label is a string literal in the API's own words; null sets nothing. While the object
// lives, list_tasks() shows a blocked task as waiting on it, for as long as
// the object has lived. The outermost label wins: Future::get() built on an
// inner wait still reads "Future::get". Outside a task or the main context
// (a loop callback, a thread without a loop) it does nothing. Costs a few
// stores per blocking call, nothing per switch: a task's wait is dated by the
// start of the loop turn it blocked in (Scheduler::turn_started()), because
// even a coarse clock read per call slowed a channel round trip by 13%, and
// "how long has it waited" needs milliseconds, not nanoseconds. The main
// context, which blocks outside any turn, reads the coarse clock.
#ifndef EVERGREEN_LOOP_INTERNAL_WAIT_LABEL_H_
#define EVERGREEN_LOOP_INTERNAL_WAIT_LABEL_H_

#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/coarse_clock.h"
#include "evergreen/loop/internal/scheduler.h"

namespace evergreen::internal {

class WaitLabel {
 public:
  // `waits_for`: the context that must act first (see BlockingContext), if known.
  WaitLabel(BlockingContext& context, const char* label,
            const BlockingContext* waits_for = nullptr) {
    set(&context, label, waits_for);
  }
  explicit WaitLabel(const char* label, const BlockingContext* waits_for = nullptr) {
    set(current_context_or_null(), label, waits_for);
  }
  WaitLabel(const WaitLabel&) = delete;
  WaitLabel& operator=(const WaitLabel&) = delete;
  ~WaitLabel() {
    if (context_ == nullptr) return;
    context_->waiting_on = nullptr;
    context_->waits_for = nullptr;
  }

 private:
  void set(BlockingContext* context, const char* label, const BlockingContext* waits_for) {
    // Null: unnamed here. Set already: an outer label holds.
    if (label == nullptr || context == nullptr || context->waiting_on != nullptr) return;
    context_ = context;
    context->waiting_on = label;
    context->waits_for = waits_for;
    context->waiting_since =
        context->task != nullptr ? context->loop->turn_started() : coarse_steady_now();
  }

  BlockingContext* context_ = nullptr;  // the context this label set, if it did
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_WAIT_LABEL_H_
