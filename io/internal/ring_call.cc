#include "evergreen/io/internal/ring_call.h"

#include <stdexcept>

#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen::io::internal {
namespace {

using evergreen::internal::BlockingContext;
using evergreen::internal::Scheduler;

// Lives on the caller's stack, which stays put until on_complete() has run:
// perform_ring_call() does not return before, and detach() waits for it.
class RingCall final : public PendingRingCall {
 public:
  RingCall(IoWatcher& watcher, BlockingContext& waiter) : waiter(&waiter), watcher_(watcher) {}

  void on_complete(int32_t value) override {
    result = value;
    completed = true;
    watcher_.untrack(this);
    if (waiter != nullptr) evergreen::internal::wake(*waiter);
  }

  int32_t result = 0;
  bool completed = false;
  // Null once the caller waits outright (it is running, not parked: a wake
  // would resume it later at some unrelated suspension point).
  BlockingContext* waiter;

 private:
  IoWatcher& watcher_;
};

}  // namespace

RingOutcome perform_ring_call(IoWatcher& watcher, const RingRequest& request, const char* label) {
  BlockingContext& self = evergreen::internal::current_blocking_context();
  // Like every blocking call: a delivery already pending is raised before
  // anything starts.
  evergreen::internal::raise_pending(self);
  Scheduler* loop = watcher.loop();
  if (loop == nullptr) {
    throw std::runtime_error(
        "evergreen: I/O on a descriptor whose event loop was destroyed (each stream belongs "
        "to the loop it was opened on)");
  }
  RingCall call(watcher, self);
  call.kind = request.kind;
  call.fd = request.fd;
  call.buffer = request.buffer;
  call.length = request.length;
  IoWatcher::Operation lifetime(watcher);
  Scheduler::KeepAlive keep_alive(*loop);
  evergreen::internal::WaitLabel wait_label(self, label);
  loop->submit_operation(call);
  watcher.track(&call);
  RingOutcome outcome;
  // Stops waiting by parking: cancels and blocks in the ring until the
  // kernel is done with the call (at once for a waiting socket operation).
  auto finish_outright = [&] {
    call.waiter = nullptr;
    loop->cancel_operation(call);
    loop->finish_operation(call);
  };
  while (!call.completed) {
    try {
      evergreen::internal::park(self);
    } catch (...) {
      // The main context's loop stopped under it.
      finish_outright();
      throw;
    }
    if (call.completed) break;
    // Woken without a completion: a kill or Timeout was delivered.
    outcome.interrupted = true;
    finish_outright();
  }
  outcome.result = call.result;
  if (lifetime.owner_destroyed()) outcome.state = WaitResult::kDestroyed;
  return outcome;
}

void raise_if_interrupted(const RingOutcome& outcome) {
  if (outcome.interrupted) {
    evergreen::internal::raise_pending(evergreen::internal::current_blocking_context());
  }
}

}  // namespace evergreen::io::internal
