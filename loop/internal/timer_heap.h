// A min-heap of timers ordered by (deadline, insertion sequence), so timers with
// equal deadlines fire in the order they were added. Removal is O(log n).
// Entries are intrusive: the heap never allocates per timer (only its arrays
// grow).
//
// Sifting never touches an entry. Entries live wherever their owners put them,
// usually on a sleeping task's stack, so with 100k sleepers each entry sits on
// a page of its own; writing a moved entry's position back into it would cost
// a TLB miss per heap level. Instead each armed entry holds a small id, and the
// heap keeps the id -> position table in a dense array of its own.
#ifndef EVERGREEN_LOOP_INTERNAL_TIMER_HEAP_H_
#define EVERGREEN_LOOP_INTERNAL_TIMER_HEAP_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "evergreen/fiber/internal/cache_line.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/large_array_allocator.h"

namespace evergreen::internal {

struct BlockingContext;

struct TimerEntry {
  static constexpr uint32_t kNotInHeap = UINT32_MAX;
  static constexpr uint32_t kInBatch = UINT32_MAX - 1;  // taken by take_due()
  virtual ~TimerEntry() = default;
  // Runs on the loop fiber once the deadline has passed; the entry has already
  // left the heap and may be re-inserted.
  virtual void fire() = 0;
  // Called when the loop is destroyed with the entry still armed: the entry
  // must forget the loop.
  virtual void detach() {}

  bool armed() const { return heap_id != kNotInHeap; }

  // The heap's handle for this entry while it is armed (or kInBatch).
  uint32_t heap_id = kNotInHeap;
  // The context fire() wakes, or null. The heap keeps a copy and prefetches
  // it with the entry when timers fire in a batch; the loop then prefetches
  // the rest of what resuming it touches before calling fire().
  BlockingContext* wakes = nullptr;
};

class TimerHeap {
 public:
  TimerHeap() : storage_(kOffset) {}

  // Entries still to fire count, whether in the heap or in a batch.
  bool empty() const { return count_ == 0 && batch_next_ == batch_size_; }
  size_t size() const { return count_ + (batch_size_ - batch_next_); }
  // The earliest entry in the heap (not in a batch), or null.
  TimerEntry* top() const { return count_ == 0 ? nullptr : entries_[at(0).id].entry; }
  // When the next entry is due (already, if a batch is unfinished); only
  // when !empty().
  TimePoint next_deadline() const {
    return batch_next_ < batch_size_ ? TimePoint::min() : at(0).deadline;
  }

  // Inserts `entry` (not currently in the heap) with the given deadline.
  void insert(TimerEntry* entry, TimePoint deadline);
  // Removes `entry` if it is in this heap; returns whether it was.
  bool remove(TimerEntry* entry);
  // Removes and returns the earliest entry.
  TimerEntry* pop();

  // Firing in batches, cheaper per entry than pop(): the entries' memory is
  // fetched in parallel rather than one miss at a time.
  //
  // take_due() moves up to kMaxBatch entries whose deadline is at or before
  // `now` out of the heap into the batch, earliest first. They stay armed
  // until next_to_fire() hands them out one by one, and remove() still
  // cancels one that has not been handed out yet - so firing one timer may
  // cancel (and destroy) another of the same batch. next_to_fire() returns
  // null once the batch is done.
  static constexpr size_t kMaxBatch = 64;
  void take_due(TimePoint now, size_t max);
  TimerEntry* next_to_fire();
  // Removes every entry (each becomes unarmed before `on_each` sees it).
  template <class F>
  void clear(F&& on_each) {
    std::vector<TimerEntry*> armed;
    armed.reserve(size());
    for (size_t i = 0; i < count_; ++i) armed.push_back(entries_[at(i).id].entry);
    count_ = 0;
    storage_.resize(kOffset);
    forget_ids();
    for (size_t i = batch_next_; i < batch_size_; ++i) {
      if (batch_[i] != nullptr) armed.push_back(batch_[i]);
    }
    batch_next_ = batch_size_ = 0;
    for (TimerEntry* entry : armed) {
      entry->heap_id = TimerEntry::kNotInHeap;
      on_each(entry);
    }
  }

 private:
  static constexpr uint32_t kNoId = UINT32_MAX;
  // The ordering key is copied into the heap array, so comparisons never
  // follow a pointer. 16 bytes, so a node's four children fill exactly one
  // cache line (see at()). Insertion order, which only breaks ties, lives in
  // sequences_.
  struct Slot {
    TimePoint deadline;
    uint32_t id;
  };
  static_assert(sizeof(Slot) * 4 == fiber_internal::kCacheLine);
  // Heap index i lives at storage_[i + 3]: the children of i (4i+1 .. 4i+4)
  // then start at storage index 4i+4, a cache line boundary.
  static constexpr size_t kOffset = 3;
  Slot& at(size_t index) { return storage_[index + kOffset]; }
  const Slot& at(size_t index) const { return storage_[index + kOffset]; }

  bool earlier(const Slot& a, const Slot& b) const {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    return sequences_[a.id] < sequences_[b.id];
  }
  void place(size_t index, const Slot& slot) {
    at(index) = slot;
    positions_[slot.id] = static_cast<uint32_t>(index);
  }
  // Frees every id (none may be armed), keeping the id tables' memory: the
  // next insert() gets id 0 again.
  void forget_ids() {
    positions_.clear();
    entries_.clear();
    sequences_.clear();
    free_id_ = kNoId;
  }
  // Frees the slot at `index`; the caller still has to unarm its entry.
  void unlink_at(size_t index);
  void remove_at(size_t index) {
    TimerEntry* entry = entries_[at(index).id].entry;
    unlink_at(index);
    entry->heap_id = TimerEntry::kNotInHeap;
  }
  // The earliest of the children of `index`, which must have at least one.
  size_t earliest_child(size_t index) const;
  void sift_up(size_t index);
  void sift_down(size_t index);

  std::vector<Slot, LargeArrayAllocator<Slot>> storage_;  // kOffset unused slots, then the heap
  size_t count_ = 0;                                      // slots in the heap
  // Indexed by id: the slot holding that id, or for a free id the next free
  // one (a LIFO free list, so a reused id's table entries are still cached).
  std::vector<uint32_t, LargeArrayAllocator<uint32_t>> positions_;
  // Indexed by id: the armed entry and the context it wakes, side by side so
  // that firing costs one miss for both.
  struct Registered {
    TimerEntry* entry;
    const BlockingContext* wakes;
  };
  std::vector<Registered, LargeArrayAllocator<Registered>> entries_;
  std::vector<uint64_t, LargeArrayAllocator<uint64_t>> sequences_;
  uint32_t free_id_ = kNoId;
  uint64_t next_sequence_ = 0;
  // The batch being fired: entries from batch_next_ to batch_size_ are still
  // to be handed out (null where remove() cancelled one).
  TimerEntry* batch_[kMaxBatch];
  size_t batch_next_ = 0;
  size_t batch_size_ = 0;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_TIMER_HEAP_H_
