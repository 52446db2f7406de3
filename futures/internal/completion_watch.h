// Watches a set of futures for wait() and as_completed(): records them as
// they complete and wakes the one context waiting on the watch.
#ifndef EVERGREEN_FUTURES_INTERNAL_COMPLETION_WATCH_H_
#define EVERGREEN_FUTURES_INTERNAL_COMPLETION_WATCH_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "evergreen/futures/future.h"
#include "evergreen/futures/internal/future_state.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/wait_queue.h"

namespace evergreen::futures::internal {

class CompletionWatch final : public CompletionListener {
 public:
  // Watches the distinct futures of `futures` (a future listed twice counts
  // once). Throws std::invalid_argument for a handle without state.
  explicit CompletionWatch(const std::vector<FutureBase>& futures);
  ~CompletionWatch();
  CompletionWatch(const CompletionWatch&) = delete;
  CompletionWatch& operator=(const CompletionWatch&) = delete;

  // The distinct futures, in input order.
  size_t size() const { return entries_.size(); }
  const FutureBase& future(size_t index) const { return entries_[index].future; }
  // How many are not done yet.
  size_t not_done() const { return not_done_; }
  // Whether one finished by raising.
  bool saw_exception() const { return saw_exception_; }

  // The next completed future not yet taken: those done when the watch was
  // made first (in input order), then in completion order. Empty if none.
  std::optional<FutureBase> take_completed();

  // Blocks until another watched future completes (true) or `deadline`
  // passes (false). Raises a kill or Timeout delivered while blocked.
  bool wait_for_completion(std::optional<TimePoint> deadline);

 private:
  struct Entry {
    FutureBase future;
    CompletionLink link;
  };

  void on_complete(CompletionLink& link) override;

  // Never resized after construction: links point into it.
  std::vector<Entry> entries_;
  std::deque<size_t> completed_;
  size_t not_done_ = 0;
  bool saw_exception_ = false;
  evergreen::internal::WaitQueue waiter_;
};

// What is left of the time until `deadline` (std::nullopt: no limit), never
// negative.
std::optional<Duration> time_left(std::optional<TimePoint> deadline);

// The deadline `timeout` from now (std::nullopt: none).
std::optional<TimePoint> deadline_after(std::optional<Duration> timeout);

}  // namespace evergreen::futures::internal

#endif  // EVERGREEN_FUTURES_INTERNAL_COMPLETION_WATCH_H_
