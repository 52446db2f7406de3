#include "evergreen/futures/loop_group_executor.h"

#include <stdexcept>

#include "evergreen/futures/internal/destructor_wait.h"

namespace evergreen::futures {

LoopGroupExecutor::LoopGroupExecutor(LoopGroup& group)
    : group_(group), in_flight_(std::make_shared<internal::InFlight>()) {}

LoopGroupExecutor::~LoopGroupExecutor() {
  shutdown_ = true;
  if (loop_.can_block_here()) {
    internal::wait_in_destructor([this] {
      while (in_flight_->count > 0) in_flight_->drained.wait("Executor::shutdown");
    });
  }
}

void LoopGroupExecutor::shutdown(bool wait) {
  loop_.check_thread(this, "LoopGroupExecutor", "shutdown");
  shutdown_ = true;
  if (!wait) return;
  loop_.require_current("Executor::shutdown()");
  while (in_flight_->count > 0) in_flight_->drained.wait("Executor::shutdown");
}

void LoopGroupExecutor::enqueue(std::shared_ptr<internal::FutureStateBase> job) {
  loop_.check_thread(this, "LoopGroupExecutor", "submit");
  if (shutdown_) {
    throw std::runtime_error("evergreen: LoopGroupExecutor::submit() after shutdown()");
  }
  loop_.require_current("Executor::submit()");
  size_t index = next_;
  internal::dispatch_to_group(group_, index, std::move(job), in_flight_);
  next_ = (index + 1) % group_.size();
}

}  // namespace evergreen::futures
