// Recycled memory for spawned tasks (internal): a thread reuses the blocks of
// its ended tasks, keeps only one size and a bounded number, and frees them
// at exit.
#include "evergreen/loop/internal/task_memory.h"

#include <memory>
#include <thread>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

namespace evergreen::internal {
namespace {

// Runs `body` on a thread of its own, so that it starts with an empty cache.
template <class F>
void on_new_thread(F body) {
  std::thread thread(body);
  thread.join();
}

TEST(TaskMemoryTest, AnEndedTasksBlockGoesToTheNextSpawn) {
  if (!kTaskBlockCache) GTEST_SKIP() << "no cache under sanitizers";
  on_new_thread([] {
    EventLoop loop;
    std::shared_ptr<Task> first = spawn([] {});
    first->join();
    const Task* address = first.get();
    first.reset();
    EXPECT_EQ(cached_task_blocks(), 1u);
    std::shared_ptr<Task> second = spawn([] {});
    EXPECT_EQ(second.get(), address);
    EXPECT_EQ(cached_task_blocks(), 0u);
    second->join();
  });
}

TEST(TaskMemoryTest, KeepsOneSizeUpToTheLimit) {
  if (!kTaskBlockCache) GTEST_SKIP() << "no cache under sanitizers";
  on_new_thread([] {
    constexpr size_t kBytes = 256;
    constexpr size_t kLimit = kMaxCachedTaskBytes / kBytes;
    std::vector<void*> blocks;
    for (size_t i = 0; i < kLimit + 10; ++i) blocks.push_back(allocate_task_block(kBytes));
    for (void* block : blocks) deallocate_task_block(block, kBytes);
    EXPECT_EQ(cached_task_blocks(), kLimit);
    // Another size is never kept.
    void* other = allocate_task_block(2 * kBytes);
    deallocate_task_block(other, 2 * kBytes);
    EXPECT_EQ(cached_task_blocks(), kLimit);
    // Last in, first out.
    void* last = blocks[kLimit - 1];
    EXPECT_EQ(allocate_task_block(kBytes), last);
    deallocate_task_block(last, kBytes);
  });
}

using TaskMemoryLoopTest = evergreen::testing::LoopTest;

TEST_F(TaskMemoryLoopTest, ABlockFreedOnAnotherThreadGoesToThatThreadsCache) {
  if (!kTaskBlockCache) GTEST_SKIP() << "no cache under sanitizers";
  std::shared_ptr<Task> task = spawn([] {});
  task->join();
  size_t cached_there = 0;
  // That thread's cache (and the block with it) is freed when it exits.
  on_new_thread([&] {
    task.reset();
    cached_there = cached_task_blocks();
  });
  EXPECT_EQ(cached_there, 1u);
}

}  // namespace
}  // namespace evergreen::internal
