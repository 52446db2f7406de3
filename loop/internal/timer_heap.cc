#include "evergreen/loop/internal/timer_heap.h"

#include <stdexcept>

namespace evergreen::internal {

// A 4-ary heap: shallower than a binary one, and a node's children share one
// cache line.
namespace {
constexpr size_t kArity = 4;
}

void TimerHeap::insert(TimerEntry* entry, TimePoint deadline) {
  if (count_ == 0 && free_id_ != kNoId) {
    // Every id is free: start again from 0, so that a new burst of timers
    // fills the id tables in order (kept in their grown capacity) rather than
    // at the scattered places the last burst's timers fired from.
    forget_ids();
  }
  uint32_t id = free_id_;
  if (id != kNoId) {
    free_id_ = positions_[id];
    entries_[id] = Registered{entry, entry->wakes};
  } else {
    if (entries_.size() >= TimerEntry::kInBatch) {
      throw std::length_error("evergreen: more than 4 billion timers are armed");
    }
    id = static_cast<uint32_t>(entries_.size());
    entries_.push_back(Registered{entry, entry->wakes});
    positions_.push_back(0);
    sequences_.push_back(0);
  }
  entry->heap_id = id;
  sequences_[id] = next_sequence_++;
  storage_.push_back(Slot{deadline, id});
  positions_[id] = static_cast<uint32_t>(count_);
  sift_up(count_++);
}

bool TimerHeap::remove(TimerEntry* entry) {
  uint32_t id = entry->heap_id;
  if (id == TimerEntry::kInBatch) {
    for (size_t i = batch_next_; i < batch_size_; ++i) {
      if (batch_[i] == entry) {
        batch_[i] = nullptr;
        entry->heap_id = TimerEntry::kNotInHeap;
        return true;
      }
    }
    return false;  // another heap's batch
  }
  // An id this heap did not hand out to `entry` (another loop's timer).
  if (id >= entries_.size() || entries_[id].entry != entry) return false;
  remove_at(positions_[id]);
  return true;
}

TimerEntry* TimerHeap::pop() {
  if (count_ == 0) return nullptr;
  TimerEntry* first = entries_[at(0).id].entry;
  remove_at(0);
  return first;
}

void TimerHeap::take_due(TimePoint now, size_t max) {
  if (max > kMaxBatch) max = kMaxBatch;
  // Any rest of an earlier batch comes first.
  if (batch_next_ == batch_size_) batch_next_ = batch_size_ = 0;
  size_t first_new = batch_size_;
  const BlockingContext* wakes[kMaxBatch];
  while (batch_size_ < max && count_ > 0 && at(0).deadline <= now) {
    const Registered& registered = entries_[at(0).id];
    wakes[batch_size_] = registered.wakes;
    batch_[batch_size_++] = registered.entry;
    // The next root is (almost always) the root's earliest child. Its
    // entries_ slot is a random miss; fetching it now hides the miss behind
    // this pop's sift.
    if (count_ > 1) __builtin_prefetch(&entries_[at(earliest_child(0)).id]);
    unlink_at(0);
  }
  // Each entry and what it wakes usually lie on pages of their own (a
  // sleeping task's stack and its Task object), so each prefetch misses the
  // TLB, and (as measured here) a prefetch retires only once its page walk is
  // done. Issued back to back, with nothing between them to fill the reorder
  // window, the walks overlap; one per turn of the loop above, each sift
  // would wait for a whole walk.
  for (size_t i = first_new; i < batch_size_; ++i) {
    __builtin_prefetch(batch_[i], 1);
    if (wakes[i] != nullptr) __builtin_prefetch(wakes[i], 1);
  }
  for (size_t i = first_new; i < batch_size_; ++i) batch_[i]->heap_id = TimerEntry::kInBatch;
}

TimerEntry* TimerHeap::next_to_fire() {
  while (batch_next_ < batch_size_) {
    TimerEntry* entry = batch_[batch_next_++];
    if (entry == nullptr) continue;  // cancelled after take_due()
    entry->heap_id = TimerEntry::kNotInHeap;
    return entry;
  }
  batch_next_ = batch_size_ = 0;
  return nullptr;
}

void TimerHeap::unlink_at(size_t index) {
  uint32_t id = at(index).id;
  entries_[id] = Registered{nullptr, nullptr};
  positions_[id] = free_id_;
  free_id_ = id;
  Slot last = storage_.back();
  storage_.pop_back();
  --count_;
  if (index == count_) return;
  // The last slot fills the hole: from the root it can only sink; elsewhere it
  // may have to rise instead.
  if (index > 0 && earlier(last, at((index - 1) / kArity))) {
    place(index, last);
    sift_up(index);
  } else {
    place(index, last);
    sift_down(index);
  }
}

size_t TimerHeap::earliest_child(size_t index) const {
  const size_t first_child = index * kArity + 1;
  const size_t end = first_child + kArity < count_ ? first_child + kArity : count_;
  size_t best = first_child;
  for (size_t child = first_child + 1; child < end; ++child) {
    if (earlier(at(child), at(best))) best = child;
  }
  return best;
}

void TimerHeap::sift_up(size_t index) {
  Slot slot = at(index);
  while (index > 0) {
    size_t parent = (index - 1) / kArity;
    if (!earlier(slot, at(parent))) break;
    place(index, at(parent));
    index = parent;
  }
  place(index, slot);
}

void TimerHeap::sift_down(size_t index) {
  Slot slot = at(index);
  for (;;) {
    size_t first_child = index * kArity + 1;
    if (first_child >= count_) break;
    // The next level's line is a miss with 100k+ timers: fetch the children
    // of all four candidates while this level is compared.
    size_t first_grandchild = first_child * kArity + 1;
    for (size_t group = 0; group < kArity && first_grandchild + group * kArity < count_; ++group) {
      __builtin_prefetch(&at(first_grandchild + group * kArity));
    }
    size_t best = earliest_child(index);
    if (!earlier(at(best), slot)) break;
    place(index, at(best));
    index = best;
  }
  place(index, slot);
}

}  // namespace evergreen::internal
