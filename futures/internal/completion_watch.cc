#include "evergreen/futures/internal/completion_watch.h"

#include "evergreen/loop/internal/loop_clock.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <unordered_set>

namespace evergreen::futures::internal {

std::optional<Duration> time_left(std::optional<TimePoint> deadline) {
  if (!deadline) return std::nullopt;
  return std::max(Duration::zero(), *deadline - ::evergreen::internal::loop_now());
}

std::optional<TimePoint> deadline_after(std::optional<Duration> timeout) {
  if (!timeout) return std::nullopt;
  return ::evergreen::internal::loop_now() + *timeout;
}

CompletionWatch::CompletionWatch(const std::vector<FutureBase>& futures) {
  std::unordered_set<const FutureStateBase*> seen;
  entries_.reserve(futures.size());
  for (const FutureBase& future : futures) {
    const FutureStateBase* state = FutureAccess::state(future).get();
    if (state == nullptr) {
      throw std::invalid_argument(
          "evergreen: wait()/as_completed(): a Future without state (default-constructed)");
    }
    if (seen.insert(state).second) entries_.push_back(Entry{future, CompletionLink{}});
  }
  for (size_t index = 0; index < entries_.size(); ++index) {
    Entry& entry = entries_[index];
    FutureStateBase& state = *FutureAccess::state(entry.future);
    if (state.done()) {
      completed_.push_back(index);
      if (state.failed()) saw_exception_ = true;
      continue;
    }
    ++not_done_;
    entry.link.listener = this;
    entry.link.tag = index;
    state.watch(entry.link);
  }
}

CompletionWatch::~CompletionWatch() {
  for (Entry& entry : entries_) {
    if (entry.link.state != nullptr) entry.link.state->unwatch(entry.link);
  }
}

void CompletionWatch::on_complete(CompletionLink& link) {
  --not_done_;
  if (FutureAccess::state(entries_[link.tag].future)->failed()) saw_exception_ = true;
  completed_.push_back(link.tag);
  waiter_.notify_all();
}

std::optional<FutureBase> CompletionWatch::take_completed() {
  if (completed_.empty()) return std::nullopt;
  size_t index = completed_.front();
  completed_.pop_front();
  return entries_[index].future;
}

bool CompletionWatch::wait_for_completion(std::optional<TimePoint> deadline) {
  std::optional<Duration> left = time_left(deadline);
  // A deadline already passed is a poll: it must work where blocking cannot
  // (a loop callback), so the wait queue is not even asked.
  if (left && *left == Duration::zero()) return false;
  return waiter_.wait("futures::wait", left);
}

}  // namespace evergreen::futures::internal
