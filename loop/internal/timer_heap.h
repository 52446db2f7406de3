// A min-heap of timers ordered by (deadline, insertion sequence), so timers with
// equal deadlines fire in the order they were added. Each entry knows its index,
// which makes removal O(log n). Entries are intrusive: the heap never allocates
// per timer (only its vector grows).
#ifndef EVERGREEN_LOOP_INTERNAL_TIMER_HEAP_H_
#define EVERGREEN_LOOP_INTERNAL_TIMER_HEAP_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "evergreen/loop/event_loop.h"

namespace evergreen::internal {

struct TimerEntry {
  static constexpr size_t kNotInHeap = static_cast<size_t>(-1);
  virtual ~TimerEntry() = default;
  // Runs on the loop fiber once the deadline has passed; the entry has already
  // left the heap and may be re-inserted.
  virtual void fire() = 0;
  // Called when the loop is destroyed with the entry still armed: the entry
  // must forget the loop.
  virtual void detach() {}

  bool armed() const { return heap_index != kNotInHeap; }

  TimePoint deadline{};
  uint64_t sequence = 0;
  size_t heap_index = kNotInHeap;
};

class TimerHeap {
 public:
  bool empty() const { return slots_.empty(); }
  size_t size() const { return slots_.size(); }
  TimerEntry* top() const { return slots_.empty() ? nullptr : slots_.front().entry; }

  // Inserts `entry` (not currently in the heap) with the given deadline.
  void insert(TimerEntry* entry, TimePoint deadline);
  // Removes `entry` if it is in the heap; returns whether it was.
  bool remove(TimerEntry* entry);
  // Removes and returns the earliest entry.
  TimerEntry* pop();
  // Removes every entry (their heap_index is reset).
  template <class F>
  void clear(F&& on_each) {
    std::vector<Slot> slots;
    slots.swap(slots_);
    for (Slot& slot : slots) {
      slot.entry->heap_index = TimerEntry::kNotInHeap;
      on_each(slot.entry);
    }
  }

 private:
  // The ordering key is copied into the heap array: entries live wherever
  // their owners put them (a sleeping task's stack), so comparing through
  // pointers would miss the cache at every step of a sift.
  struct Slot {
    TimePoint deadline;
    uint64_t sequence;
    TimerEntry* entry;
  };
  static bool earlier(const Slot& a, const Slot& b) {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    return a.sequence < b.sequence;
  }
  void place(size_t index, const Slot& slot) {
    slots_[index] = slot;
    slot.entry->heap_index = index;
  }
  void sift_up(size_t index);
  void sift_down(size_t index);

  std::vector<Slot> slots_;
  uint64_t next_sequence_ = 0;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_TIMER_HEAP_H_
