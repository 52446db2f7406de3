#include "evergreen/futures/internal/future_state.h"

#include <stdexcept>
#include <string>

#include "evergreen/futures/errors.h"
#include "evergreen/futures/future.h"
#include "evergreen/loop/internal/report.h"
#include "evergreen/loop/task.h"

namespace evergreen::futures::internal {
namespace {

// Runs one done callback. Exceptions are reported and ignored, as the seed
// says; a kill is the exception of the context running the callback, not
// the callback's, so it is kept in `kill` for the caller to re-raise once
// the remaining callbacks ran.
void run_callback(FutureStateBase::DoneCallback& callback, FutureBase& future,
                  std::exception_ptr& kill) {
  try {
    callback(future);
  } catch (const TaskExit&) {
    if (!kill) kill = std::current_exception();
  } catch (...) {
    evergreen::internal::report_current_exception("a future's done callback raised");
  }
}

}  // namespace

std::exception_ptr killed_worker_error() {
  return std::make_exception_ptr(std::runtime_error(
      "evergreen: the executor's worker task was killed while running the call"));
}

std::exception_ptr call_raised_task_exit_error() {
  return std::make_exception_ptr(std::runtime_error(
      "evergreen: the call raised TaskExit on a ThreadPoolExecutor thread, where no task runs "
      "and none can be killed; to end a call early, return or throw an ordinary exception"));
}

FutureStateBase::~FutureStateBase() {
  while (CompletionLink* link = links_.front()) unwatch(*link);
}

void FutureStateBase::watch(CompletionLink& link) {
  link.state = this;
  links_.push_back(&link);
}

void FutureStateBase::unwatch(CompletionLink& link) {
  if (link.state != this) return;
  links_.remove(&link);
  link.state = nullptr;
}

void FutureStateBase::complete(const std::shared_ptr<FutureStateBase>& self, Status status) {
  FutureStateBase& state = *self;
  state.status_ = status;
  state.getters_.notify_all();
  while (CompletionLink* link = state.links_.front()) {
    state.unwatch(*link);
    link->listener->on_complete(*link);
  }
  if (state.callbacks_.empty()) return;
  // Taken out first: a callback may add another (which then runs at once),
  // and a callback holding a handle to this future must not keep it alive.
  std::vector<DoneCallback> callbacks = std::move(state.callbacks_);
  state.callbacks_.clear();
  FutureBase handle = FutureAccess::make_base(self);
  std::exception_ptr kill;
  for (DoneCallback& callback : callbacks) run_callback(callback, handle, kill);
  if (kill) std::rethrow_exception(kill);
}

void FutureStateBase::finish(const std::shared_ptr<FutureStateBase>& self) {
  complete(self, Status::kFinished);
}

bool FutureStateBase::cancel(const std::shared_ptr<FutureStateBase>& self) {
  FutureStateBase& state = *self;
  if (state.status_ == Status::kCancelled) return true;
  if (state.status_ != Status::kPending || !state.claim()) return false;
  state.drop_call();
  complete(self, Status::kCancelled);
  return true;
}

void FutureStateBase::add_done_callback(const std::shared_ptr<FutureStateBase>& self,
                                        DoneCallback callback) {
  if (!self->done()) {
    self->callbacks_.push_back(std::move(callback));
    return;
  }
  FutureBase handle = FutureAccess::make_base(self);
  std::exception_ptr kill;
  run_callback(callback, handle, kill);
  if (kill) std::rethrow_exception(kill);
}

void FutureStateBase::wait_for_outcome(std::optional<Duration> timeout) {
  if (!done()) {
    // Checked here rather than left to the wait queue, so that a zero
    // timeout polls without needing a context that can block.
    if (timeout && *timeout <= Duration::zero()) throw TimeoutError();
    // Only completion notifies getters, so one wait suffices.
    getters_.wait("Future::get", timeout);
    if (!done()) throw TimeoutError();
  }
  if (status_ == Status::kCancelled) throw CancelledError();
  if (error_) std::rethrow_exception(error_);
}

}  // namespace evergreen::futures::internal
