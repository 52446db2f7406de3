// The orders a queue can keep its items in: FIFO (Queue), LIFO (LifoQueue)
// and lowest-first (PriorityQueue). Each stores move-only items and moves
// them out on pop(); pop() requires a non-empty store. kQueueName is the
// public type that uses it, for error messages.
#ifndef EVERGREEN_SYNC_INTERNAL_QUEUE_STORAGE_H_
#define EVERGREEN_SYNC_INTERNAL_QUEUE_STORAGE_H_

#include <algorithm>
#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

namespace evergreen::internal {

template <class T>
class FifoStorage {
 public:
  static constexpr const char* kQueueName = "Queue";
  size_t size() const { return items_.size(); }
  void push(T&& item) { items_.push_back(std::move(item)); }
  T pop() {
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

 private:
  std::deque<T> items_;
};

template <class T>
class LifoStorage {
 public:
  static constexpr const char* kQueueName = "LifoQueue";
  size_t size() const { return items_.size(); }
  void push(T&& item) { items_.push_back(std::move(item)); }
  T pop() {
    T item = std::move(items_.back());
    items_.pop_back();
    return item;
  }

 private:
  std::vector<T> items_;
};

// A binary heap whose top is the lowest item by `Compare` (std::priority_queue
// keeps the highest and cannot move its top out, hence the hand-made heap).
template <class T, class Compare>
class HeapStorage {
 public:
  static constexpr const char* kQueueName = "PriorityQueue";
  explicit HeapStorage(Compare compare = Compare()) : less_(std::move(compare)) {}

  size_t size() const { return items_.size(); }
  void push(T&& item) {
    items_.push_back(std::move(item));
    std::push_heap(items_.begin(), items_.end(), greater());
  }
  T pop() {
    std::pop_heap(items_.begin(), items_.end(), greater());
    T item = std::move(items_.back());
    items_.pop_back();
    return item;
  }

 private:
  // The standard heap algorithms keep the greatest on top; inverting the
  // order keeps the lowest there.
  auto greater() {
    return [this](const T& a, const T& b) { return less_(b, a); };
  }

  Compare less_;
  std::vector<T> items_;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_SYNC_INTERNAL_QUEUE_STORAGE_H_
