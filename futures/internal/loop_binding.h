// Which loop an executor belongs to, told apart reliably even after that loop
// was destroyed and another created on the thread (possibly at the same
// address): the binding holds the loop's cross-thread queue, which outlives
// the loop and so is never reused while the binding exists.
#ifndef EVERGREEN_FUTURES_INTERNAL_LOOP_BINDING_H_
#define EVERGREEN_FUTURES_INTERNAL_LOOP_BINDING_H_

#include <memory>

#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/thread_affinity.h"

namespace evergreen::futures::internal {

class LoopBinding {
 public:
  // Binds to this thread's loop (the main thread's is created on demand).
  // Throws std::runtime_error on a thread without a loop.
  LoopBinding();

  // Whether the calling thread runs the bound loop, and it was not destroyed.
  bool is_current() const;
  // Throws std::logic_error when called from a thread other than the bound
  // loop's (builds without NDEBUG; see ThreadAffinity). `object`, `type` and
  // `member` name the executor and the call for the message.
  void check_thread(const void* object, const char* type, const char* member) const {
    thread_.check(object, type, member);
  }
  // Throws std::runtime_error unless is_current() (the bound loop was
  // destroyed, or, in NDEBUG builds, another thread calls); `what` names the
  // caller.
  void require_current(const char* what) const;
  // Whether the caller could block on the bound loop now: it is current and
  // the caller is a task or the main context (not a loop callback).
  bool can_block_here() const;

  // The bound loop. Only on its thread, while it is alive.
  evergreen::internal::Scheduler& loop() const { return *loop_; }
  // Any thread: where call_from_thread() sends callbacks.
  evergreen::internal::CrossThreadQueue& queue() const { return *queue_; }

 private:
  evergreen::internal::Scheduler* loop_;
  std::shared_ptr<evergreen::internal::CrossThreadQueue> queue_;
  evergreen::internal::ThreadAffinity thread_;  // bound at construction
};

}  // namespace evergreen::futures::internal

#endif  // EVERGREEN_FUTURES_INTERNAL_LOOP_BINDING_H_
