// Names the blocking call a context is inside, for diagnostics (debug.h):
//
//   internal::WaitLabel label("Queue::get");
//   getters_.wait(timeout, &slot);
//
// The label is a string literal in the API's own words. While the object
// lives, list_tasks() shows a blocked task as waiting on it, for as long as
// the object has lived. The outermost label wins: Future::get() built on an
// inner wait still reads "Future::get". Outside a task or the main context
// (a loop callback, a thread without a loop) it does nothing. Costs a few
// stores and a coarse clock read per blocking call, nothing per switch: the
// precise clock (a vDSO rdtsc read) doubled the cost of a channel round trip,
// and "how long has it waited" needs milliseconds, not nanoseconds.
#ifndef EVERGREEN_LOOP_INTERNAL_WAIT_LABEL_H_
#define EVERGREEN_LOOP_INTERNAL_WAIT_LABEL_H_

#include <time.h>

#include <chrono>

#include "evergreen/loop/internal/blocking_context.h"

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
    if (context == nullptr || context->waiting_on != nullptr) return;  // an outer label holds
    context_ = context;
    context->waiting_on = label;
    context->waits_for = waits_for;
    // CLOCK_MONOTONIC_COARSE counts from the same origin as steady_clock
    // (CLOCK_MONOTONIC), at the resolution of the kernel's tick.
    timespec coarse;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &coarse);
    context->waiting_since = std::chrono::steady_clock::time_point(
        std::chrono::seconds(coarse.tv_sec) + std::chrono::nanoseconds(coarse.tv_nsec));
  }

  BlockingContext* context_ = nullptr;  // the context this label set, if it did
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_WAIT_LABEL_H_
