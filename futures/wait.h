// evergreen/futures/wait.h
//
// Waiting for several futures at once, possibly from different executors and
// of different value types (pass them as FutureBase):
//
//   std::vector<FutureBase> pending = {a, b, c};
//   auto [done, not_done] = wait(pending, 1s, ReturnWhen::kFirstCompleted);
//
//   for (FutureBase f : as_completed(pending, 10s)) f.get();   // first done, first out
//
// Any range of futures of one type works as it is, e.g. a
// std::vector<Future<int>> or a std::span<const FutureBase>:
//
//   std::vector<Future<int>> results = ...;
//   wait(results);
//
// Both block only the calling task (or the main context), and raise a kill
// or Timeout delivered while blocked. Also included by future.h.
#ifndef EVERGREEN_FUTURES_WAIT_H_
#define EVERGREEN_FUTURES_WAIT_H_

#include <chrono>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <vector>

#include "evergreen/futures/future.h"
#include "evergreen/loop/event_loop.h"

namespace evergreen::futures {

namespace internal {
class CompletionWatch;
}

// FutureRange
//
// A range whose elements convert to FutureBase: Future<T> or FutureBase.
template <class R>
concept FutureRange = std::ranges::input_range<R> &&
                      std::convertible_to<std::ranges::range_reference_t<R>, FutureBase>;

namespace internal {
// The handles of `futures`, in order.
template <FutureRange R>
std::vector<FutureBase> to_future_bases(R&& futures) {
  std::vector<FutureBase> result;
  if constexpr (std::ranges::sized_range<R>) result.reserve(std::ranges::size(futures));
  for (auto&& future : futures) result.push_back(FutureBase(future));
  return result;
}
// Whether R is (a reference to) std::vector<FutureBase>, which has overloads of its own.
template <class R>
inline constexpr bool is_future_base_vector_v =
    std::is_same_v<std::remove_cvref_t<R>, std::vector<FutureBase>>;
}  // namespace internal

// When wait() returns.
enum class ReturnWhen {
  // As soon as any future finishes or is cancelled.
  kFirstCompleted,
  // As soon as any future finishes by raising; if none does, when all are
  // done (as kAllCompleted). A cancellation does not count as raising.
  kFirstException,
  // When every future finished or was cancelled.
  kAllCompleted,
};

// What wait() returns: the distinct futures given, split by whether they were
// done when it returned, each part in input order.
struct DoneAndNotDone {
  std::vector<FutureBase> done;
  std::vector<FutureBase> not_done;
};

// wait()
//
// Blocks until the condition `return_when` holds for `futures`, or until
// `timeout` passes (std::nullopt: no limit), and returns the split. Returns
// at once if the condition already holds (always, for an empty list). A
// future listed twice appears once in the result. Does not throw on timeout.
// Throws std::invalid_argument for a handle without state, and
// std::runtime_error when it would block inside a loop callback.
DoneAndNotDone wait(const std::vector<FutureBase>& futures,
                    std::optional<Duration> timeout = std::nullopt,
                    ReturnWhen return_when = ReturnWhen::kAllCompleted);

// wait(range)
//
// The same for any range of Future<T> or FutureBase (a
// std::vector<Future<int>>, a std::list<FutureBase>, a view...). The result
// holds FutureBase handles; Future<T>(handle) gives the typed one back.
template <FutureRange R>
  requires(!internal::is_future_base_vector_v<R>)
DoneAndNotDone wait(R&& futures, std::optional<Duration> timeout = std::nullopt,
                    ReturnWhen return_when = ReturnWhen::kAllCompleted) {
  return wait(internal::to_future_bases(std::forward<R>(futures)), timeout, return_when);
}

// wait() with any std::chrono::duration, rounded up.
template <class Rep, class Period>
DoneAndNotDone wait(const std::vector<FutureBase>& futures,
                    std::chrono::duration<Rep, Period> timeout,
                    ReturnWhen return_when = ReturnWhen::kAllCompleted) {
  return wait(futures, std::optional<Duration>(to_duration(timeout)), return_when);
}
template <FutureRange R, class Rep, class Period>
  requires(!internal::is_future_base_vector_v<R>)
DoneAndNotDone wait(R&& futures, std::chrono::duration<Rep, Period> timeout,
                    ReturnWhen return_when = ReturnWhen::kAllCompleted) {
  return wait(internal::to_future_bases(std::forward<R>(futures)),
              std::optional<Duration>(to_duration(timeout)), return_when);
}

// AsCompleted
//
// The input range as_completed() returns. Iterating blocks until the next
// future completes; after a TimeoutError the range ends.
class AsCompleted {
 public:
  class iterator {
   public:
    using iterator_concept = std::input_iterator_tag;
    using value_type = FutureBase;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    const FutureBase& operator*() const { return *range_->current_; }
    const FutureBase* operator->() const { return &*range_->current_; }
    // Blocks for the next completed future; see as_completed().
    iterator& operator++() {
      range_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.at_end(); }

   private:
    friend class AsCompleted;
    bool at_end() const { return !range_->current_.has_value(); }
    explicit iterator(AsCompleted* range) : range_(range) {}
    AsCompleted* range_ = nullptr;
  };

  AsCompleted(AsCompleted&&) noexcept;
  AsCompleted& operator=(AsCompleted&&) noexcept;
  ~AsCompleted();

  // Blocks for the first completed future (only on the first call; later
  // calls return an iterator at the current position).
  iterator begin();
  std::default_sentinel_t end() const { return std::default_sentinel; }

 private:
  friend AsCompleted as_completed(const std::vector<FutureBase>&, std::optional<Duration>);
  AsCompleted(const std::vector<FutureBase>& futures, std::optional<Duration> timeout);
  void advance();

  std::unique_ptr<internal::CompletionWatch> watch_;  // null once the range ended
  std::optional<TimePoint> deadline_;
  std::optional<FutureBase> current_;
  size_t yielded_ = 0;
  bool started_ = false;
};

// as_completed()
//
// Returns a range that yields each distinct future of `futures` once, as it
// completes (finished or cancelled): those already done first, in input
// order, then in the order they complete. Advancing (including begin())
// blocks the calling task until the next one completes; if that does not
// happen before `timeout` has passed since the call to as_completed(), it
// throws TimeoutError and the range ends. Throws std::invalid_argument for a
// handle without state; blocking inside a loop callback throws
// std::runtime_error.
AsCompleted as_completed(const std::vector<FutureBase>& futures,
                         std::optional<Duration> timeout = std::nullopt);

// as_completed(range)
//
// The same for any range of Future<T> or FutureBase; it yields FutureBase
// handles. The range is read once, during the call.
template <FutureRange R>
  requires(!internal::is_future_base_vector_v<R>)
AsCompleted as_completed(R&& futures, std::optional<Duration> timeout = std::nullopt) {
  return as_completed(internal::to_future_bases(std::forward<R>(futures)), timeout);
}

// as_completed() with any std::chrono::duration, rounded up.
template <class Rep, class Period>
AsCompleted as_completed(const std::vector<FutureBase>& futures,
                         std::chrono::duration<Rep, Period> timeout) {
  return as_completed(futures, std::optional<Duration>(to_duration(timeout)));
}
template <FutureRange R, class Rep, class Period>
  requires(!internal::is_future_base_vector_v<R>)
AsCompleted as_completed(R&& futures, std::chrono::duration<Rep, Period> timeout) {
  return as_completed(internal::to_future_bases(std::forward<R>(futures)),
                      std::optional<Duration>(to_duration(timeout)));
}

}  // namespace evergreen::futures

#endif  // EVERGREEN_FUTURES_WAIT_H_
