// Which loop an executor belongs to, told apart reliably even after that loop
// was destroyed and another created on the thread (possibly at the same
// address): the binding holds the loop's cross-thread queue, which outlives
// the loop and so is never reused while the binding exists.
#ifndef EVERGREEN_FUTURES_INTERNAL_LOOP_BINDING_H_
#define EVERGREEN_FUTURES_INTERNAL_LOOP_BINDING_H_

#include <memory>

#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/loop_core.h"

namespace evergreen::futures::internal {

class LoopBinding {
 public:
  // Binds to this thread's loop (the main thread's is created on demand).
  // Throws std::runtime_error on a thread without a loop.
  LoopBinding();

  // Whether the calling thread runs the bound loop, and it was not destroyed.
  bool is_current() const;
  // Throws std::runtime_error unless is_current(); `what` names the caller.
  void require_current(const char* what) const;
  // Whether the caller could block on the bound loop now: it is current and
  // the caller is a task or the main context (not a loop callback).
  bool can_block_here() const;

  // The bound loop. Only on its thread, while it is alive.
  evergreen::internal::LoopCore& core() const { return *core_; }
  // Any thread: where call_from_thread() sends callbacks.
  evergreen::internal::CrossThreadQueue& queue() const { return *queue_; }

 private:
  evergreen::internal::LoopCore* core_;
  std::shared_ptr<evergreen::internal::CrossThreadQueue> queue_;
};

}  // namespace evergreen::futures::internal

#endif  // EVERGREEN_FUTURES_INTERNAL_LOOP_BINDING_H_
