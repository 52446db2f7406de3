// The tasks a loop has started and not yet ended, so that destroy() can end
// them in start order.
//
// Adding and removing touch only this registry's dense arrays, never another
// task: with 100k tasks ending in random order, unlinking from a linked list
// would cost two cache misses on the neighbours' memory per task. Start order
// is kept as a sequence number and only sorted out when destroy() asks.
#ifndef EVERGREEN_LOOP_INTERNAL_LIVE_TASKS_H_
#define EVERGREEN_LOOP_INTERNAL_LIVE_TASKS_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "evergreen/loop/internal/slot_vector.h"

namespace evergreen {
class Task;
}

namespace evergreen::internal {

class LiveTasks {
 public:
  // Where a live task is registered; stable until remove().
  using Slot = uint32_t;
  struct Started {
    Slot slot;
    uint64_t sequence;  // start order
  };

  bool empty() const { return count_ == 0; }

  Slot add(Task* task) {
    // With no task alive, start again from slot 0: a new burst of tasks then
    // fills the registry in order, not at the scattered slots the last
    // burst's tasks ended from.
    if (count_ == 0) entries_.reset();
    Slot slot = entries_.acquire();
    entries_[slot] = Entry{task, next_sequence_++};
    ++count_;
    return slot;
  }

  void remove(Slot slot) {
    entries_[slot].task = nullptr;
    entries_.release(slot);
    --count_;
  }

  // The live tasks started at or after `sequence`, in start order.
  std::vector<Started> started_since(uint64_t sequence) const {
    std::vector<Started> started;
    for (Slot slot = 0; slot < entries_.size(); ++slot) {
      const Entry& entry = entries_[slot];
      if (entry.task != nullptr && entry.sequence >= sequence) {
        started.push_back(Started{slot, entry.sequence});
      }
    }
    std::sort(started.begin(), started.end(),
              [](const Started& a, const Started& b) { return a.sequence < b.sequence; });
    return started;
  }

  // The task `started` names, or null if it has ended since.
  Task* find(const Started& started) const {
    const Entry& entry = entries_[started.slot];
    return entry.task != nullptr && entry.sequence == started.sequence ? entry.task : nullptr;
  }

 private:
  struct Entry {
    Task* task = nullptr;  // null for a free slot
    uint64_t sequence = 0;
  };
  SlotVector<Entry> entries_;
  size_t count_ = 0;
  uint64_t next_sequence_ = 0;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_LIVE_TASKS_H_
