// A vector whose elements keep their index until released, so the index can
// serve as a handle. Released indices are reused, most recently released
// first; a reused element keeps whatever value it had when it was released
// (the poller's generation counter relies on that), and a new one starts
// value-initialized.
#ifndef EVERGREEN_LOOP_INTERNAL_SLOT_VECTOR_H_
#define EVERGREEN_LOOP_INTERNAL_SLOT_VECTOR_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace evergreen::internal {

template <class T>
class SlotVector {
 public:
  // An index no one holds.
  uint32_t acquire() {
    if (!free_.empty()) {
      uint32_t index = free_.back();
      free_.pop_back();
      return index;
    }
    items_.emplace_back();
    return static_cast<uint32_t>(items_.size() - 1);
  }
  // Gives `index` back; the caller has stopped using it.
  void release(uint32_t index) { free_.push_back(index); }
  // Forgets every element, keeping the memory; only when no index is held.
  // The next acquire() returns 0 again, and a value-initialized element.
  void reset() {
    items_.clear();
    free_.clear();
  }

  // Every element ever acquired, released ones included.
  size_t size() const { return items_.size(); }
  T& operator[](size_t index) { return items_[index]; }
  const T& operator[](size_t index) const { return items_[index]; }

 private:
  std::vector<T> items_;
  std::vector<uint32_t> free_;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_SLOT_VECTOR_H_
