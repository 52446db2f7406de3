// The loop's registry of live tasks (internal): stable slots, start order,
// and slots handed out from the start again once no task is alive.
#include "evergreen/loop/internal/live_tasks.h"

#include <vector>

#include "gtest/gtest.h"

namespace evergreen::internal {
namespace {

// The registry only stores and compares Task pointers; it never follows them.
Task* fake_task(int (&storage)[8], int i) { return reinterpret_cast<Task*>(&storage[i]); }

TEST(LiveTasksTest, ListsTheTasksStillAliveInStartOrder) {
  int storage[8];
  LiveTasks live;
  std::vector<LiveTasks::Slot> slots;
  for (int i = 0; i < 4; ++i) slots.push_back(live.add(fake_task(storage, i)));
  live.remove(slots[1]);
  slots.push_back(live.add(fake_task(storage, 4)));  // reuses slot 1
  EXPECT_EQ(slots[4], slots[1]);
  std::vector<Task*> alive;
  for (const LiveTasks::Started& started : live.started_since(0))
    alive.push_back(live.find(started));
  EXPECT_EQ(alive, (std::vector<Task*>{fake_task(storage, 0), fake_task(storage, 2),
                                       fake_task(storage, 3), fake_task(storage, 4)}));
  const std::vector<LiveTasks::Started> later = live.started_since(3);
  ASSERT_EQ(later.size(), 2u);
  live.remove(later[0].slot);
  EXPECT_EQ(live.find(later[0]), nullptr);
  EXPECT_EQ(live.find(later[1]), fake_task(storage, 4));
}

TEST(LiveTasksTest, OnceNoTaskIsAliveSlotsStartFromZeroAgain) {
  // Tasks end in whatever order their work finishes; the next burst must
  // still fill the registry from the start, not at the scattered slots the
  // last one freed.
  int storage[8];
  LiveTasks live;
  std::vector<LiveTasks::Slot> slots;
  for (int i = 0; i < 4; ++i) slots.push_back(live.add(fake_task(storage, i)));
  for (int i : {2, 0, 3, 1}) live.remove(slots[i]);
  ASSERT_TRUE(live.empty());
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(live.add(fake_task(storage, 4 + i)), static_cast<LiveTasks::Slot>(i));
  std::vector<Task*> alive;
  for (const LiveTasks::Started& started : live.started_since(0))
    alive.push_back(live.find(started));
  EXPECT_EQ(alive, (std::vector<Task*>{fake_task(storage, 4), fake_task(storage, 5),
                                       fake_task(storage, 6), fake_task(storage, 7)}));
}

}  // namespace
}  // namespace evergreen::internal
