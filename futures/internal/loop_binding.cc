#include "evergreen/futures/internal/loop_binding.h"

#include <stdexcept>
#include <string>

#include "evergreen/loop/internal/blocking_context.h"

namespace evergreen::futures::internal {

using evergreen::internal::Scheduler;

LoopBinding::LoopBinding()
    : loop_(&Scheduler::current()), queue_(loop_->cross_thread_queue()) {
  thread_.bind_to_this_thread();
}

bool LoopBinding::is_current() const {
  Scheduler* current = Scheduler::for_this_thread();
  // The pointer check is the fast path; the queue check rules out a new loop
  // allocated where the destroyed one was.
  return current == loop_ && current->cross_thread_queue() == queue_;
}

void LoopBinding::require_current(const char* what) const {
  if (!is_current()) {
    throw std::runtime_error(std::string("evergreen: ") + what +
                             ": the executor belongs to another thread's event loop, or to "
                             "one that was destroyed");
  }
}

bool LoopBinding::can_block_here() const {
  return is_current() && evergreen::internal::current_context_or_null() != nullptr;
}

}  // namespace evergreen::futures::internal
