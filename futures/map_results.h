// evergreen/futures/map_results.h
//
// MapResults: the input range Executor::map() returns, yielding the results
// of the calls in input order as they become available.
#ifndef EVERGREEN_FUTURES_MAP_RESULTS_H_
#define EVERGREEN_FUTURES_MAP_RESULTS_H_

#include <cstddef>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "evergreen/futures/future.h"
#include "evergreen/futures/internal/completion_watch.h"

namespace evergreen::futures {

// What MapResults<R> yields for calls returning R: the value (a copy, for a
// reference), or std::monostate for void.
template <class R>
using map_value_t = std::conditional_t<std::is_void_v<R>, std::monostate, std::remove_cvref_t<R>>;

// MapResults<R>
//
// Advancing (including the first begin()) blocks the calling task until the
// next call in input order is done, then yields its value, moved out of its
// future; `*it` is that value, an lvalue the loop body may move from. A call
// that raised re-throws its exception at its position, and one still
// running when the map's timeout expires raises TimeoutError; either way the
// range ends there and the calls not yet yielded are cancelled (those that
// already started run to completion). Destroying the range after iteration
// began cancels the calls not yet yielded too; a range never iterated
// cancels nothing (as an unstarted Python generator), so discarding the
// result of map() still runs every call.
template <class R>
class [[nodiscard]] MapResults {
 public:
  using value_type = map_value_t<R>;

  class iterator {
   public:
    using iterator_concept = std::input_iterator_tag;
    using value_type = MapResults::value_type;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    value_type& operator*() const { return *results_->current_; }
    value_type* operator->() const { return &*results_->current_; }
    iterator& operator++() {
      results_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.at_end(); }

   private:
    friend class MapResults;
    bool at_end() const { return !results_->current_.has_value(); }
    explicit iterator(MapResults* results) : results_(results) {}
    MapResults* results_ = nullptr;
  };

  MapResults(std::vector<Future<R>> futures, std::optional<TimePoint> deadline)
      : futures_(std::move(futures)), deadline_(deadline) {}
  MapResults(MapResults&& other) noexcept
      : futures_(std::move(other.futures_)),
        deadline_(other.deadline_),
        current_(std::move(other.current_)),
        next_(std::exchange(other.next_, 0)),
        started_(std::exchange(other.started_, false)) {
    other.futures_.clear();
  }
  MapResults& operator=(MapResults&&) = delete;
  ~MapResults() {
    if (started_) cancel_from(next_);
  }

  // Blocks for the first result (only on the first call; later calls return
  // an iterator at the current position).
  iterator begin() {
    if (!started_) {
      started_ = true;
      advance();
    }
    return iterator(this);
  }
  std::default_sentinel_t end() const { return std::default_sentinel; }

 private:
  void advance() {
    current_.reset();
    if (next_ == futures_.size()) return;
    // Released as soon as it is yielded: a long map does not keep every
    // finished call's state alive.
    Future<R> future = std::move(futures_[next_++]);
    try {
      std::optional<Duration> left = internal::time_left(deadline_);
      if constexpr (std::is_void_v<R>) {
        future.get(left);
        current_.emplace();
      } else if constexpr (std::is_reference_v<R>) {
        current_.emplace(future.get(left));
      } else {
        current_.emplace(future.take(left));
      }
    } catch (...) {
      future.cancel();
      cancel_from(next_);
      next_ = futures_.size();
      throw;
    }
  }

  void cancel_from(size_t first) {
    for (size_t index = first; index < futures_.size(); ++index) {
      if (futures_[index].valid()) futures_[index].cancel();
    }
  }

  std::vector<Future<R>> futures_;
  std::optional<TimePoint> deadline_;
  std::optional<value_type> current_;
  size_t next_ = 0;
  bool started_ = false;
};

}  // namespace evergreen::futures

#endif  // EVERGREEN_FUTURES_MAP_RESULTS_H_
