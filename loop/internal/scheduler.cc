#include "evergreen/loop/internal/scheduler.h"

#include <stdexcept>
#include <utility>

#include "evergreen/loop/internal/loop_core.h"

namespace evergreen::internal {

Scheduler::Scheduler(std::unique_ptr<Poller> poller)
    : thread_(std::this_thread::get_id()),
      poller_(std::move(poller)),
      thread_queue_(std::make_shared<CrossThreadQueue>()) {
  if (this_thread_scheduler != nullptr) {
    throw std::runtime_error("evergreen: this thread already has an event loop");
  }
  this_thread_scheduler = this;
}

Scheduler::~Scheduler() { leave_thread(); }

void Scheduler::leave_thread() {
  if (this_thread_scheduler == this) this_thread_scheduler = nullptr;
}

void Scheduler::call_from_thread(CrossThreadQueue& queue, absl::AnyInvocable<void()> callback) {
  LoopCore::post_from_thread(queue, std::move(callback));
}

}  // namespace evergreen::internal
