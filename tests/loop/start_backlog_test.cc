// A burst of spawns (loop/internal/start_backlog.h): a task holds no stack
// until it first runs and gives it back when it ends; beyond a ready queue of
// StartBacklog::kStartBatch entries new tasks join it a batch per loop turn,
// after due timers have fired, so that a burst reuses the stacks of the tasks
// that already ended instead of holding one stack per spawned task. Tasks
// still start in spawn order, a yield (sleep(0s)) resumes only after every
// task spawned before it started, and a loop destroyed with tasks waiting
// ends them without running them.
#include "evergreen/loop/internal/start_backlog.h"

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "evergreen/fiber/fiber.h"
#include "evergreen/fiber/internal/thread_state.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;
using internal::StartBacklog;

// Several batches of tasks, so that a loop without the backlog would start
// them all in its first turn and hold more stacks at once than the tests
// allow.
#ifdef EVERGREEN_TSAN
// TSan sets up a context per fiber and its shadow per new stack: slow.
constexpr int kBurst = 3 * static_cast<int>(StartBacklog::kStartBatch);
#else
constexpr int kBurst = 16 * static_cast<int>(StartBacklog::kStartBatch);
#endif

// This thread's pool of task stacks (the default size), or null before the
// first task ran on this thread.
const fiber_internal::StackPool* task_stack_pool() {
  return fiber_internal::ThreadState::get().pools().find(default_stack_size());
}

size_t task_stacks_in_use() {
  const fiber_internal::StackPool* pool = task_stack_pool();
  return pool == nullptr ? 0 : pool->capacity() - pool->free_count();
}

// Runs `body` on a thread of its own: it starts with no stack pool, so the
// pool's capacity is the most stacks the body had in use at once.
template <class F>
void on_new_thread(F body) {
  std::thread thread(body);
  thread.join();
}

TEST(StartBacklogTest, ATaskHoldsNoStackUntilItRunsAndNoneOnceItEnded) {
  on_new_thread([] {
    EventLoop loop;
    std::vector<std::shared_ptr<Task>> tasks;
    std::vector<size_t> in_use_while_running;
    for (int i = 0; i < 100; ++i) {
      tasks.push_back(spawn([&] { in_use_while_running.push_back(task_stacks_in_use()); }));
    }
    EXPECT_EQ(task_stacks_in_use(), 0u) << "spawned tasks that have not run hold no stack";
    for (auto& task : tasks) task->join();
    ASSERT_EQ(in_use_while_running.size(), 100u);
    // Each ran alone: the one before had ended and given its stack back.
    for (size_t in_use : in_use_while_running) EXPECT_EQ(in_use, 1u);
    EXPECT_EQ(task_stacks_in_use(), 0u) << "ended tasks hold no stack";
  });
}

TEST(StartBacklogTest, ABurstOfSpawnsReusesTheStacksOfTasksThatEnded) {
  on_new_thread([] {
    EventLoop loop;
    std::vector<std::shared_ptr<Task>> tasks;
    for (int i = 0; i < kBurst; ++i) {
      tasks.push_back(spawn([] { sleep(1us); }));  // due by the next turn, then ends
    }
    for (auto& task : tasks) task->join();
    // Started all at once, every task would hold its stack while it sleeps:
    // kBurst stacks. In batches, the timers of one batch fire and its tasks
    // end before the batch after next starts. (A sleep(0s) would not do:
    // a yield resumes behind every task spawned before it.)
    const fiber_internal::StackPool* pool = task_stack_pool();
    ASSERT_NE(pool, nullptr);
    EXPECT_LE(pool->capacity(), 2 * StartBacklog::kStartBatch);
    EXPECT_EQ(task_stacks_in_use(), 0u);
  });
}

TEST(StartBacklogTest, WhileTimersAreBehindABatchAdmitsFewerTasksThanTimersEnd) {
  on_new_thread([] {
    EventLoop loop;
    std::vector<std::shared_ptr<Task>> tasks;
    // Each sleep is due by the next turn, but a turn fires only 64 timers:
    // admitting a full batch per turn would start tasks faster than their
    // timers end them, until most of the burst held a stack.
    for (int i = 0; i < kBurst; ++i) tasks.push_back(spawn([] { sleep(1us); }));
    for (auto& task : tasks) task->join();
    const fiber_internal::StackPool* pool = task_stack_pool();
    ASSERT_NE(pool, nullptr);
    EXPECT_LE(pool->capacity(), 2 * StartBacklog::kStartBatch);
  });
}

class StartBacklogLoopTest : public testing::LoopTest {};

TEST_F(StartBacklogLoopTest, ADueTimerFiresBetweenBatchesOfABurst) {
  int started = 0;
  int started_when_timer_fired = -1;
  std::vector<std::shared_ptr<Task>> tasks;
  tasks.push_back(spawn([&] {
    ++started;
    sleep(1us);  // due by the next turn
    started_when_timer_fired = started;
  }));
  for (int i = 1; i < kBurst; ++i) tasks.push_back(spawn([&] { ++started; }));
  for (auto& task : tasks) task->join();
  EXPECT_EQ(started, kBurst);
  // Without the backlog the first turn would start all kBurst tasks.
  EXPECT_GT(started_when_timer_fired, 0);
  EXPECT_LE(started_when_timer_fired, static_cast<int>(2 * StartBacklog::kStartBatch));
}

TEST_F(StartBacklogLoopTest, TasksStartInSpawnOrderAcrossBatches) {
  std::vector<int> order;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < kBurst; ++i) {
    tasks.push_back(spawn([&order, i] {
      order.push_back(i);
      // A task spawned mid-burst starts after every task spawned before it.
      if (i == 0) spawn([&order] { order.push_back(kBurst); });
    }));
  }
  for (auto& task : tasks) task->join();
  sleep(0s);  // lets the task spawned last run
  ASSERT_EQ(order.size(), static_cast<size_t>(kBurst) + 1);
  for (int i = 0; i <= kBurst; ++i) EXPECT_EQ(order[static_cast<size_t>(i)], i);
}

// FIFO order (API.md): a yield runs every task spawned before it first, even
// those still waiting in the backlog, so "spawn many, sleep(0s), then use
// them" keeps working for a burst of any size.
TEST_F(StartBacklogLoopTest, ASleepZeroInTheMainContextLetsTheWholeBurstStart) {
  int started = 0;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < kBurst; ++i) tasks.push_back(spawn([&] { ++started; }));
  sleep(0s);
  EXPECT_EQ(started, kBurst);
  for (auto& task : tasks) task->join();
}

TEST_F(StartBacklogLoopTest, ATaskThatYieldsResumesAfterTheTasksSpawnedBeforeIt) {
  int started = 0;
  int started_when_resumed = -1;
  std::vector<std::shared_ptr<Task>> tasks;
  tasks.push_back(spawn([&] {
    ++started;
    sleep(0s);
    started_when_resumed = started;
  }));
  for (int i = 1; i < kBurst; ++i) tasks.push_back(spawn([&] { ++started; }));
  for (auto& task : tasks) task->join();
  EXPECT_EQ(started_when_resumed, kBurst);
}

TEST_F(StartBacklogLoopTest, AKilledTaskStillInTheBacklogNeverRuns) {
  int ran = 0;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < kBurst; ++i) tasks.push_back(spawn([&] { ++ran; }));
  tasks.back()->kill();
  for (auto& task : tasks) task->join();
  EXPECT_EQ(ran, kBurst - 1);
  EXPECT_FALSE(tasks.back()->is_alive());
}

TEST(StartBacklogDestroyTest, DestroyEndsTasksStillInTheBacklogWithoutRunningThem) {
  on_new_thread([] {
    int ran = 0;
    std::vector<std::shared_ptr<Task>> tasks;
    {
      EventLoop loop;
      for (int i = 0; i < kBurst; ++i) tasks.push_back(spawn([&] { ++ran; }));
      loop.destroy();
    }
    EXPECT_EQ(ran, 0);
    for (auto& task : tasks) EXPECT_FALSE(task->is_alive());
    EXPECT_EQ(task_stacks_in_use(), 0u);
  });
}

}  // namespace
}  // namespace evergreen
