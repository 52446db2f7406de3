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
  entries_.push_back(entry);
  entry->heap_index = entries_.size() - 1;
  sift_up(entry->heap_index);
}

bool TimerHeap::remove(TimerEntry* entry) {
  size_t index = entry->heap_index;
  if (index == TimerEntry::kNotInHeap || index >= entries_.size() || entries_[index] != entry) {
    return false;
  }
  entry->heap_index = TimerEntry::kNotInHeap;
  TimerEntry* last = entries_.back();
  entries_.pop_back();
  if (last != entry) {
    place(index, last);
    sift_up(index);
    sift_down(last->heap_index);
  }
  return true;
}

TimerEntry* TimerHeap::pop() {
  if (entries_.empty()) return nullptr;
  TimerEntry* first = entries_.front();
  remove(first);
  return first;
}

void TimerHeap::sift_up(size_t index) {
  TimerEntry* entry = entries_[index];
  while (index > 0) {
    size_t parent = (index - 1) / kArity;
    if (!earlier(entry, entries_[parent])) break;
    place(index, entries_[parent]);
    index = parent;
  }
  place(index, entry);
}

void TimerHeap::sift_down(size_t index) {
  TimerEntry* entry = entries_[index];
  const size_t count = entries_.size();
  for (;;) {
    size_t first_child = index * kArity + 1;
    if (first_child >= count) break;
    size_t best = first_child;
    size_t end = first_child + kArity < count ? first_child + kArity : count;
    for (size_t child = first_child + 1; child < end; ++child) {
      if (earlier(entries_[child], entries_[best])) best = child;
    }
    if (!earlier(entries_[best], entry)) break;
    place(index, entries_[best]);
    index = best;
  }
  place(index, entry);
}

}  // namespace evergreen::internal
