// The spinning fast path of cross-thread waits (sync/internal/
// cross_thread_waiter.h): a task that blocks on a loop with nothing else
// ready, and whose loop spins for cross-thread work (a LoopGroup's), spins on
// its own waiter before parking. These tests give the loop a spin window far
// longer than any test (kForever), so whatever ends a spin early is what the
// test is about; a spin that ignored it would outlast the test's bounded
// waits and fail it.
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/loop_group.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/internal/cross_thread_waiter.h"
#include "evergreen/sync/thread_safe_queue.h"
#include "gtest/gtest.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;
using internal::CrossThreadQueue;
using internal::CrossThreadWaiter;

constexpr auto kPatience = 20s;
constexpr Duration kForever = std::chrono::hours(1);

LoopGroup one_loop(Duration spin) {
  LoopGroupOptions options{.name = "spin-test"};
  options.loop.cross_thread_spin = spin;
  return LoopGroup(1, options);
}

// The cross-thread queue of `group`'s loop 0 (it outlives the loop).
std::shared_ptr<CrossThreadQueue> queue_of(LoopGroup& group) {
  std::promise<std::shared_ptr<CrossThreadQueue>> queue;
  group.post(
      0, [&] { queue.set_value(internal::Scheduler::for_this_thread()->cross_thread_queue()); });
  return queue.get_future().get();
}

// A task on loop 0 blocked in CrossThreadWaiter::wait() on `list`, and what
// it returned.
struct BlockedTask {
  // CrossThreadWaiter::spin_if_idle (ThreadSafeQueue sets it for get()).
  bool spin_if_idle = true;
  std::mutex mutex;
  CrossThreadWaiter::List list;
  std::promise<std::pair<bool, CrossThreadWaiter::Outcome>> result;

  void start(LoopGroup& group) {
    group.post(0, [this] {
      std::unique_lock<std::mutex> lock(mutex);
      CrossThreadWaiter waiter;
      waiter.spin_if_idle = spin_if_idle;
      bool served = waiter.wait(lock, list, std::nullopt, "BlockedTask");
      result.set_value({served, waiter.outcome()});
    });
  }
  // Waits (bounded) until the task is linked in `list`.
  bool linked() {
    auto give_up = std::chrono::steady_clock::now() + kPatience;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (!list.empty()) return true;
      }
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(1ms);
    }
  }
  // From this (plain) thread, as a ThreadSafeQueue waker does.
  void notify(CrossThreadWaiter::Outcome outcome) {
    CrossThreadWaiter::DeferredWakes wakes;
    std::lock_guard<std::mutex> lock(mutex);
    list.front()->notify(list, outcome, wakes);
  }
  std::optional<std::pair<bool, CrossThreadWaiter::Outcome>> finished() {
    auto future = result.get_future();
    if (future.wait_for(kPatience) != std::future_status::ready) return std::nullopt;
    return future.get();
  }
  // Serves the waiter from this thread and waits (bounded) for it to return:
  // how many wake-up records `queue` (its loop's) took meanwhile, or nullopt
  // if it did not return served.
  std::optional<uint64_t> serve_counting_wake_records(CrossThreadQueue& queue) {
    const uint64_t pushed_before = queue.wakes_pushed();
    notify(CrossThreadWaiter::Outcome::kServed);
    auto returned = finished();
    if (!returned || !returned->first || returned->second != CrossThreadWaiter::Outcome::kServed) {
      return std::nullopt;
    }
    return queue.wakes_pushed() - pushed_before;
  }
};

TEST(ThreadSafeQueueSpinTest, AWaiterSpinningOnAnIdleLoopIsServedWithoutAWakeRecord) {
  LoopGroup group = one_loop(kForever);
  std::shared_ptr<CrossThreadQueue> queue = queue_of(group);
  BlockedTask task;
  task.start(group);
  ASSERT_TRUE(task.linked());
  EXPECT_EQ(task.serve_counting_wake_records(*queue), std::optional<uint64_t>(0))
      << "a spinning waiter needs no wake-up record";
}

TEST(ThreadSafeQueueSpinTest, WithoutASpinWindowTheWakeUpGoesThroughTheLoopsQueue) {
  LoopGroup group = one_loop(Duration::zero());
  std::shared_ptr<CrossThreadQueue> queue = queue_of(group);
  BlockedTask task;
  task.start(group);
  ASSERT_TRUE(task.linked());
  EXPECT_EQ(task.serve_counting_wake_records(*queue), std::optional<uint64_t>(1));
}

TEST(ThreadSafeQueueSpinTest, AWaitThatMayNotSpinParksEvenOnASpinningLoop) {
  // As a blocked put() does: it parks, so the consumer drains a run of
  // items before the producer comes back.
  LoopGroup group = one_loop(kForever);
  std::shared_ptr<CrossThreadQueue> queue = queue_of(group);
  BlockedTask task;
  task.spin_if_idle = false;
  task.start(group);
  ASSERT_TRUE(task.linked());
  EXPECT_EQ(task.serve_counting_wake_records(*queue), std::optional<uint64_t>(1))
      << "it parked, so it is woken by a record";
}

TEST(ThreadSafeQueueSpinTest, ASpinningWaiterIsToldOfCloseAsOfService) {
  LoopGroup group = one_loop(kForever);
  BlockedTask task;
  task.start(group);
  ASSERT_TRUE(task.linked());
  task.notify(CrossThreadWaiter::Outcome::kClosed);
  auto result = task.finished();
  ASSERT_TRUE(result) << "the notified waiter did not return";
  EXPECT_TRUE(result->first);
  EXPECT_EQ(result->second, CrossThreadWaiter::Outcome::kClosed);
}

TEST(ThreadSafeQueueSpinTest, ASpinningWaiterStopsSpinningForWorkFromAnotherThread) {
  LoopGroup group = one_loop(kForever);
  std::shared_ptr<CrossThreadQueue> queue = queue_of(group);
  BlockedTask task;
  task.start(group);
  ASSERT_TRUE(task.linked());
  // Runs only once the waiter stopped spinning and parked.
  std::promise<void> ran;
  group.post(0, [&] { ran.set_value(); });
  ASSERT_EQ(ran.get_future().wait_for(kPatience), std::future_status::ready)
      << "a spinning waiter kept its loop from running work posted to it";
  // Parked now: the wake-up goes through the loop's queue.
  EXPECT_EQ(task.serve_counting_wake_records(*queue), std::optional<uint64_t>(1));
}

TEST(ThreadSafeQueueSpinTest, ATimeoutEndsTheSpinAtTheDeadline) {
  LoopGroup group = one_loop(kForever);
  ThreadSafeQueue<int> items;
  std::promise<std::optional<int>> got;
  group.post(0, [&] { got.set_value(items.get_for(50ms)); });
  auto future = got.get_future();
  ASSERT_EQ(future.wait_for(kPatience), std::future_status::ready)
      << "get_for() spun past its deadline";
  EXPECT_EQ(future.get(), std::nullopt);
}

TEST(ThreadSafeQueueSpinTest, AKillFromAnotherThreadEndsASpinningGetWhichTakesNothing) {
  LoopGroup group = one_loop(kForever);
  ThreadSafeQueue<int> items;
  // The consumer's handle lives and dies on loop 0, as a Task must.
  std::shared_ptr<Task> consumer;
  std::promise<bool> killed;
  std::promise<void> started;
  group.post(0, [&] {
    consumer = spawn([&] {
      try {
        items.get();
        killed.set_value(false);
      } catch (const TaskExit&) {
        killed.set_value(true);
        throw;
      }
    });
    started.set_value();
  });
  started.get_future().wait();
  std::this_thread::sleep_for(10ms);  // most likely spinning in get() by now
  group.post(0, [&] { consumer->kill(); });
  auto was_killed = killed.get_future();
  ASSERT_EQ(was_killed.wait_for(kPatience), std::future_status::ready)
      << "a kill did not reach a task spinning in get()";
  EXPECT_TRUE(was_killed.get());
  std::promise<void> released;
  group.post(0, [&] {
    consumer.reset();
    released.set_value();
  });
  released.get_future().wait();
  // The killed get() took nothing: an item put now is still there.
  items.put(4);
  EXPECT_EQ(items.try_get(), 4);
}

TEST(ThreadSafeQueueSpinTest, CloseWhileAGetSpinsRaisesQueueClosed) {
  LoopGroup group = one_loop(kForever);
  ThreadSafeQueue<int> items;
  std::promise<bool> closed;
  group.post(0, [&] {
    try {
      items.get();
      closed.set_value(false);
    } catch (const QueueClosed&) {
      closed.set_value(true);
    }
  });
  std::this_thread::sleep_for(10ms);  // most likely spinning in get() by now
  items.close();
  auto was_closed = closed.get_future();
  ASSERT_EQ(was_closed.wait_for(kPatience), std::future_status::ready);
  EXPECT_TRUE(was_closed.get());
}

// Two loops bouncing items through two queues, every get() on an idle
// spinning loop: items of every size (in the waiter and beside it) arrive
// in order, each once.
template <class Item>
void bounce(Item (*make)(int)) {
  LoopGroupOptions options{.name = "bounce"};
  options.loop.cross_thread_spin = kForever;
  LoopGroup group(2, options);
  constexpr int kRounds = 2000;
  ThreadSafeQueue<Item> ping, pong;
  std::promise<int> mismatches;
  group.post(0, [&] {
    int wrong = 0;
    for (int i = 0; i < kRounds; ++i) {
      ping.put(make(i));
      if (!(pong.get() == make(i))) ++wrong;
    }
    mismatches.set_value(wrong);
  });
  group.post(1, [&] {
    for (int i = 0; i < kRounds; ++i) pong.put(ping.get());
  });
  auto result = mismatches.get_future();
  ASSERT_EQ(result.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(result.get(), 0);
}

TEST(ThreadSafeQueueSpinTest, SmallItemsBounceBetweenSpinningLoopsInOrder) {
  bounce<int>([](int i) { return i; });
}

TEST(ThreadSafeQueueSpinTest, LargeItemsBounceBetweenSpinningLoopsInOrder) {
  bounce<std::string>([](int i) { return std::string(100, 'x') + std::to_string(i); });
}

}  // namespace
}  // namespace evergreen
