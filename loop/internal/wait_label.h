// Names the blocking call a context is inside, for diagnostics (debug.h):
//
//   internal::WaitLabel label("Queue::get");
//   getters_.wait(timeout, &slot);
//
// The label is a string literal in the API's own words. While the object
// lives, list_tasks() shows a blocked task as waiting on it, for as long as
// the object has lived. The outermost label wins: Future::get() built on an
// inner wait still reads "Future::get". Outside a task or the main context
// (a loop callback, a thread without a loop) it does nothing. Costs a store
// and a clock read per blocking call, nothing per switch.
#ifndef EVERGREEN_LOOP_INTERNAL_WAIT_LABEL_H_
#define EVERGREEN_LOOP_INTERNAL_WAIT_LABEL_H_

#include <chrono>

#include "evergreen/loop/internal/blocking_context.h"

namespace evergreen::internal {

class WaitLabel {
 public:
  WaitLabel(BlockingContext& context, const char* label) { set(&context, label); }
  explicit WaitLabel(const char* label) { set(current_context_or_null(), label); }
  WaitLabel(const WaitLabel&) = delete;
  WaitLabel& operator=(const WaitLabel&) = delete;
  ~WaitLabel() {
    if (context_ != nullptr) context_->waiting_on = nullptr;
  }

 private:
  void set(BlockingContext* context, const char* label) {
    if (context == nullptr || context->waiting_on != nullptr) return;  // an outer label holds
    context_ = context;
    context->waiting_on = label;
    context->waiting_since = std::chrono::steady_clock::now();
  }

  BlockingContext* context_ = nullptr;  // the context this label set, if it did
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_WAIT_LABEL_H_
