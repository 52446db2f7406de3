// TakeIterator: the input iterator of every source that is drained by taking
// (Queue, LifoQueue, PriorityQueue, Channel), so `for (T item : source)`
// takes items until the source ends.
//
// `Source` provides `std::optional<T> take_for_iteration()`: it blocks like
// the source's own get()/receive(), returns the next item, returns
// std::nullopt once the source is closed and drained (the end), and throws
// whatever else get()/receive() throw (a kill, a Timeout, an exception sent
// through a Channel). Sources befriend TakeIterator when that member is
// private.
//
// The end is reported as a value, not as the source's "closed" exception
// caught here: besides sparing a throw per loop, a try/catch around the
// assignment of the taken item was miscompiled by GCC 12 at -O1 with
// -fsanitize=thread (the exception edge resumed with the previous item's
// engaged flag, so a range-for over a closed queue never ended).
#ifndef EVERGREEN_SYNC_INTERNAL_TAKE_ITERATOR_H_
#define EVERGREEN_SYNC_INTERNAL_TAKE_ITERATOR_H_

#include <cstddef>
#include <iterator>
#include <optional>

namespace evergreen::internal {

template <class Source, class T>
class TakeIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using reference = T&&;

  TakeIterator() = default;
  // Takes the first item (blocking like the source's get()).
  explicit TakeIterator(Source* source) : source_(source) { advance(); }

  // The item taken, as an rvalue so move-only items work; dereference once
  // per step.
  T&& operator*() const { return std::move(*current_); }
  TakeIterator& operator++() {
    advance();
    return *this;
  }
  void operator++(int) { advance(); }

  friend bool operator==(const TakeIterator& it, std::default_sentinel_t) {
    return !it.current_.has_value();
  }

 private:
  void advance() {
    current_.reset();  // the end if take_for_iteration() throws
    current_ = source_->take_for_iteration();
  }

  Source* source_ = nullptr;
  // mutable: operator* is const (input iterator) yet hands out the item.
  mutable std::optional<T> current_;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_SYNC_INTERNAL_TAKE_ITERATOR_H_
