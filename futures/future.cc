#include "evergreen/futures/future.h"

#include <stdexcept>

namespace evergreen::futures {

internal::FutureStateBase& FutureBase::state(const char* member) const {
  if (state_ == nullptr) {
    throw std::runtime_error(
        "evergreen: this Future has no state (it was default-constructed, not returned by "
        "Executor::submit())");
  }
  state_->check_thread(member);
  return *state_;
}

bool FutureBase::cancel() {
  state("cancel");
  return internal::FutureStateBase::cancel(state_);
}

bool FutureBase::cancelled() const { return state("cancelled").cancelled(); }

bool FutureBase::done() const { return state("done").done(); }

void FutureBase::get(std::optional<Duration> timeout) const {
  state("get").wait_for_outcome(timeout);
}

void FutureBase::add_done_callback(absl::AnyInvocable<void(FutureBase&)> callback) {
  state("add_done_callback");
  internal::FutureStateBase::add_done_callback(state_, std::move(callback));
}

}  // namespace evergreen::futures
