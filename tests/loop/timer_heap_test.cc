// TimerHeap against a reference model: random inserts, removals and pops with
// a fixed seed must give the reference's order (deadline, then insertion).
#include "evergreen/loop/internal/timer_heap.h"

#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace evergreen::internal {
namespace {

struct CountingEntry final : TimerEntry {
  void fire() override {}
  int id = 0;
};

TEST(TimerHeapTest, MatchesAReferenceOrderUnderRandomOperations) {
  std::mt19937 random(20261122);
  constexpr int kEntries = 2000;
  std::vector<std::unique_ptr<CountingEntry>> entries;
  for (int i = 0; i < kEntries; ++i) {
    entries.push_back(std::make_unique<CountingEntry>());
    entries.back()->id = i;
  }
  TimerHeap heap;
  // (deadline, insertion order) -> id: the order the heap must pop in.
  std::map<std::pair<int64_t, uint64_t>, int> reference;
  std::vector<std::pair<int64_t, uint64_t>> key_of(kEntries);
  uint64_t order = 0;
  const TimePoint base{};
  for (int step = 0; step < 200000; ++step) {
    CountingEntry& entry = *entries[random() % kEntries];
    int action = static_cast<int>(random() % 10);
    if (action < 5) {
      if (entry.armed()) continue;
      int64_t deadline = static_cast<int64_t>(random() % 1000);  // many ties
      heap.insert(&entry, base + Duration(deadline));
      key_of[entry.id] = {deadline, order++};
      reference.emplace(key_of[entry.id], entry.id);
    } else if (action < 8) {
      bool was_armed = entry.armed();
      EXPECT_EQ(heap.remove(&entry), was_armed);
      EXPECT_FALSE(entry.armed());
      if (was_armed) reference.erase(key_of[entry.id]);
    } else {
      TimerEntry* popped = heap.pop();
      if (reference.empty()) {
        ASSERT_EQ(popped, nullptr);
        continue;
      }
      ASSERT_NE(popped, nullptr);
      EXPECT_EQ(static_cast<CountingEntry*>(popped)->id, reference.begin()->second);
      EXPECT_FALSE(popped->armed());
      reference.erase(reference.begin());
    }
    ASSERT_EQ(heap.size(), reference.size());
  }
  while (!reference.empty()) {
    TimerEntry* popped = heap.pop();
    ASSERT_NE(popped, nullptr);
    EXPECT_EQ(static_cast<CountingEntry*>(popped)->id, reference.begin()->second);
    reference.erase(reference.begin());
  }
  EXPECT_EQ(heap.pop(), nullptr);
  EXPECT_TRUE(heap.empty());
}

TEST(TimerHeapTest, OnceEmptyTheHeapHandsOutIdsFromZeroAgain) {
  // A burst of timers fires in deadline order, not the order they were
  // armed in; the next burst must still fill the id tables from the start,
  // not at the scattered ids the last one freed.
  CountingEntry entries[4];
  TimerHeap heap;
  const TimePoint base{};
  for (int i = 0; i < 4; ++i) heap.insert(&entries[i], base + Duration(10 - i));
  for (int i : {2, 0, 3, 1}) ASSERT_TRUE(heap.remove(&entries[i]));
  ASSERT_TRUE(heap.empty());
  for (int i = 0; i < 4; ++i) {
    heap.insert(&entries[i], base + Duration(i));
    EXPECT_EQ(entries[i].heap_id, static_cast<uint32_t>(i));
  }
  // While some are armed, freed ids are reused as before.
  ASSERT_TRUE(heap.remove(&entries[1]));
  CountingEntry late;
  heap.insert(&late, base + Duration(7));
  EXPECT_EQ(late.heap_id, 1u);
  const std::vector<TimerEntry*> expected = {&entries[0], &entries[2], &entries[3], &late};
  for (TimerEntry* entry : expected) EXPECT_EQ(heap.pop(), entry);
}

TEST(TimerHeapTest, RemovedEntryMayBeDestroyedAtOnce) {
  TimerHeap heap;
  CountingEntry kept;
  heap.insert(&kept, TimePoint{} + Duration(10));
  for (int i = 0; i < 1000; ++i) {
    auto gone = std::make_unique<CountingEntry>();
    heap.insert(gone.get(), TimePoint{} + Duration(i % 7));  // earlier than `kept`
    EXPECT_TRUE(heap.remove(gone.get()));
  }  // each destroyed right after removal: the heap must not touch it again
  EXPECT_EQ(heap.size(), 1u);
  EXPECT_EQ(heap.top(), &kept);
  EXPECT_EQ(heap.pop(), &kept);
}

TEST(TimerHeapTest, ClearVisitsOnlyArmedEntries) {
  TimerHeap heap;
  CountingEntry armed, removed;
  heap.insert(&armed, TimePoint{});
  heap.insert(&removed, TimePoint{});
  heap.remove(&removed);
  std::vector<TimerEntry*> visited;
  heap.clear([&](TimerEntry* entry) { visited.push_back(entry); });
  EXPECT_EQ(visited, std::vector<TimerEntry*>{&armed});
  EXPECT_FALSE(armed.armed());
  EXPECT_TRUE(heap.empty());
  // Still usable afterwards.
  heap.insert(&removed, TimePoint{} + Duration(2));
  heap.insert(&armed, TimePoint{} + Duration(1));
  EXPECT_EQ(heap.size(), 2u);
  EXPECT_EQ(heap.pop(), &armed);
  EXPECT_EQ(heap.pop(), &removed);
  EXPECT_EQ(heap.pop(), nullptr);
}

TEST(TimerHeapTest, BatchTakesOnlyDueEntriesEarliestFirstUpToTheLimit) {
  TimerHeap heap;
  std::vector<std::unique_ptr<CountingEntry>> entries;
  for (int i = 0; i < 100; ++i) {
    entries.push_back(std::make_unique<CountingEntry>());
    entries.back()->id = i;
    heap.insert(entries.back().get(), TimePoint{} + Duration(99 - i));  // reverse order
  }
  heap.take_due(TimePoint{} + Duration(89), TimerHeap::kMaxBatch);  // 90 due, 64 taken
  EXPECT_EQ(heap.size(), 100u);
  std::vector<int> fired;
  while (TimerEntry* entry = heap.next_to_fire()) {
    EXPECT_FALSE(entry->armed());
    fired.push_back(static_cast<CountingEntry*>(entry)->id);
  }
  ASSERT_EQ(fired.size(), TimerHeap::kMaxBatch);
  for (size_t i = 0; i < fired.size(); ++i) EXPECT_EQ(fired[i], 99 - static_cast<int>(i));
  EXPECT_EQ(heap.size(), 100u - TimerHeap::kMaxBatch);
  heap.take_due(TimePoint{} + Duration(89), TimerHeap::kMaxBatch);
  size_t second_batch = 0;
  while (heap.next_to_fire() != nullptr) ++second_batch;
  EXPECT_EQ(second_batch, 90u - TimerHeap::kMaxBatch);
  EXPECT_EQ(heap.size(), 10u);
}

TEST(TimerHeapTest, EntryRemovedFromABatchIsNeverHandedOutAndMayBeDestroyed) {
  TimerHeap heap;
  CountingEntry first, third;
  auto second = std::make_unique<CountingEntry>();
  heap.insert(&first, TimePoint{});
  heap.insert(second.get(), TimePoint{});
  heap.insert(&third, TimePoint{});
  heap.take_due(TimePoint{}, TimerHeap::kMaxBatch);
  EXPECT_TRUE(second->armed());  // taken, not yet fired: still cancellable
  EXPECT_EQ(heap.next_to_fire(), &first);
  EXPECT_TRUE(heap.remove(second.get()));
  EXPECT_FALSE(second->armed());
  EXPECT_FALSE(heap.remove(second.get()));
  second.reset();
  EXPECT_EQ(heap.next_to_fire(), &third);
  EXPECT_EQ(heap.next_to_fire(), nullptr);
  EXPECT_TRUE(heap.empty());
}

TEST(TimerHeapTest, ClearAlsoUnarmsAnUnfinishedBatch) {
  TimerHeap heap;
  CountingEntry fired, waiting;
  heap.insert(&fired, TimePoint{});
  heap.insert(&waiting, TimePoint{});
  heap.take_due(TimePoint{}, TimerHeap::kMaxBatch);
  EXPECT_EQ(heap.next_to_fire(), &fired);
  EXPECT_FALSE(heap.empty());
  std::vector<TimerEntry*> visited;
  heap.clear([&](TimerEntry* entry) { visited.push_back(entry); });
  EXPECT_EQ(visited, std::vector<TimerEntry*>{&waiting});
  EXPECT_FALSE(waiting.armed());
  EXPECT_TRUE(heap.empty());
  EXPECT_EQ(heap.next_to_fire(), nullptr);
}

}  // namespace
}  // namespace evergreen::internal
