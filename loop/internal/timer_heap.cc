#include "evergreen/loop/internal/timer_heap.h"

namespace evergreen::internal {

// A 4-ary heap: shallower than a binary one, and a node's children share a
// cache line, which matters with 100k+ pending timers.
namespace {
constexpr size_t kArity = 4;
}

void TimerHeap::insert(TimerEntry* entry, TimePoint deadline) {
  entry->deadline = deadline;
  entry->sequence = next_sequence_++;
  slots_.push_back(Slot{deadline, entry->sequence, entry});
  entry->heap_index = slots_.size() - 1;
  sift_up(entry->heap_index);
}

bool TimerHeap::remove(TimerEntry* entry) {
  size_t index = entry->heap_index;
  if (index == TimerEntry::kNotInHeap || index >= slots_.size() || slots_[index].entry != entry) {
    return false;
  }
  entry->heap_index = TimerEntry::kNotInHeap;
  Slot last = slots_.back();
  slots_.pop_back();
  if (last.entry != entry) {
    place(index, last);
    sift_up(index);
    sift_down(last.entry->heap_index);
  }
  return true;
}

TimerEntry* TimerHeap::pop() {
  if (slots_.empty()) return nullptr;
  TimerEntry* first = slots_.front().entry;
  remove(first);
  return first;
}

void TimerHeap::sift_up(size_t index) {
  Slot slot = slots_[index];
  while (index > 0) {
    size_t parent = (index - 1) / kArity;
    if (!earlier(slot, slots_[parent])) break;
    place(index, slots_[parent]);
    index = parent;
  }
  place(index, slot);
}

void TimerHeap::sift_down(size_t index) {
  Slot slot = slots_[index];
  const size_t count = slots_.size();
  for (;;) {
    size_t first_child = index * kArity + 1;
    if (first_child >= count) break;
    size_t best = first_child;
    size_t end = first_child + kArity < count ? first_child + kArity : count;
    for (size_t child = first_child + 1; child < end; ++child) {
      if (earlier(slots_[child], slots_[best])) best = child;
    }
    if (!earlier(slots_[best], slot)) break;
    place(index, slots_[best]);
    index = best;
  }
  place(index, slot);
}

}  // namespace evergreen::internal
