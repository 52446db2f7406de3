#include "evergreen/futures/wait.h"

#include <string>

#include "evergreen/futures/errors.h"
#include "evergreen/futures/internal/completion_watch.h"

namespace evergreen::futures {

DoneAndNotDone wait(const std::vector<FutureBase>& futures, std::optional<Duration> timeout,
                    ReturnWhen return_when) {
  std::optional<TimePoint> deadline = internal::deadline_after(timeout);
  internal::CompletionWatch watch(futures);
  auto satisfied = [&] {
    if (watch.not_done() == 0) return true;
    switch (return_when) {
      case ReturnWhen::kFirstCompleted:
        return watch.not_done() < watch.size();
      case ReturnWhen::kFirstException:
        return watch.saw_exception();
      case ReturnWhen::kAllCompleted:
        return false;
    }
    return false;
  };
  while (!satisfied()) {
    if (!watch.wait_for_completion(deadline)) break;
  }
  DoneAndNotDone result;
  for (size_t index = 0; index < watch.size(); ++index) {
    const FutureBase& future = watch.future(index);
    (future.done() ? result.done : result.not_done).push_back(future);
  }
  return result;
}

AsCompleted::AsCompleted(const std::vector<FutureBase>& futures, std::optional<Duration> timeout)
    : watch_(std::make_unique<internal::CompletionWatch>(futures)),
      deadline_(internal::deadline_after(timeout)) {}

AsCompleted::AsCompleted(AsCompleted&&) noexcept = default;
AsCompleted& AsCompleted::operator=(AsCompleted&&) noexcept = default;
AsCompleted::~AsCompleted() = default;

AsCompleted::iterator AsCompleted::begin() {
  if (!started_) {
    started_ = true;
    advance();
  }
  return iterator(this);
}

void AsCompleted::advance() {
  current_.reset();
  if (watch_ == nullptr) return;
  while (yielded_ < watch_->size()) {
    if (std::optional<FutureBase> next = watch_->take_completed()) {
      current_ = std::move(next);
      ++yielded_;
      return;
    }
    if (!watch_->wait_for_completion(deadline_)) {
      size_t unfinished = watch_->not_done();
      size_t total = watch_->size();
      watch_.reset();
      throw TimeoutError("evergreen: as_completed(): " + std::to_string(unfinished) + " (of " +
                         std::to_string(total) + ") futures unfinished");
    }
  }
  watch_.reset();
}

AsCompleted as_completed(const std::vector<FutureBase>& futures, std::optional<Duration> timeout) {
  return AsCompleted(futures, timeout);
}

}  // namespace evergreen::futures
