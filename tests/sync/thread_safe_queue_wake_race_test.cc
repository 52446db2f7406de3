// ThreadSafeQueue: the lifetime of a cross-thread wake-up record
// (loop/internal/cross_thread_wake.h) when the waiter it belongs to leaves by
// another way than that wake-up. The record lives inside the waiting call's
// frame; these tests make the frame go away (and overwrite it) at the
// moments a queued record could outlive it, so a record left behind would be
// read as garbage by the loop.
#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/loop_group.h"
#include "evergreen/loop/shield.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/thread_safe_queue.h"
#include "gtest/gtest.h"
#include "tests/sync/sync_test_support.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;

using testing::SyncTest;
using ThreadSafeQueueWakeRaceTest = SyncTest;

constexpr auto kPatience = 20s;

// Fills the stack below the caller with a pattern: whatever a finished call
// left there (a waiter and its wake-up record) is overwritten.
__attribute__((noinline)) void overwrite_stack() {
  volatile unsigned char scratch[4096];
  std::memset(const_cast<unsigned char*>(scratch), 0xA5, sizeof scratch);
}

// Busy-waits, without yielding to the loop, until `flag` is set (bounded).
bool spin_until(const std::atomic<bool>& flag) {
  auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (!flag.load()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

// A consumer on this loop is served by a plain thread (which pushes the
// consumer's wake-up record onto this loop's queue) and killed by a task of
// this loop before the loop takes that record: the kill resumes it first, in
// the same turn. The service wins, and the record must be off the queue
// before the consumer's frame is gone.
TEST_F(ThreadSafeQueueWakeRaceTest, AWaiterKilledAfterAnotherThreadServedItKeepsTheItem) {
  ThreadSafeQueue<int> q;
  std::optional<int> got;
  bool survived = false;
  auto consumer = spawn([&] {
    got = q.get();
    overwrite_stack();
    {
      // Holds the kill back while the loop turns (through its poll, where
      // it takes queued records) with this stack still in use: a record
      // left queued would now be read as the pattern above.
      CancellationShield shield;
      for (int i = 0; i < 3; ++i) sleep(1ms);
    }
    sleep(0s);  // the kill is raised here
    survived = true;
  });
  yield_rounds();  // the consumer is parked in get()

  std::atomic<bool> killer_spinning{false};
  std::atomic<bool> put_done{false};
  std::thread producer([&] {
    if (!spin_until(killer_spinning)) return;
    q.put(7);
    put_done = true;
  });
  bool saw_put = false;
  auto killer = spawn([&] {
    // Holds the loop (no suspension point) until the put has pushed the
    // record, then kills: the consumer resumes for the kill before the loop
    // takes the record.
    killer_spinning = true;
    saw_put = spin_until(put_done);
    consumer->kill();
  });
  EXPECT_TRUE(killer->join(kPatience));
  EXPECT_TRUE(consumer->join(kPatience));
  producer.join();
  EXPECT_TRUE(saw_put);
  EXPECT_EQ(got, 7) << "a served waiter keeps its item although a kill came first";
  EXPECT_FALSE(survived);
  EXPECT_EQ(q.qsize(), 0u) << "delivered once";
}

// A waiter whose wake-up record is still queued when its loop is destroyed:
// destroy() closes the queue, the record must count as taken (or the waiter,
// killed by destroy(), would wait for it forever), and the waiter keeps the
// item it was served.
TEST(ThreadSafeQueueWakeRaceLoopTest, ARecordQueuedWhenTheLoopIsDestroyedReleasesTheWaiter) {
  ThreadSafeQueue<int> q;
  std::atomic<int> got{0};
  std::atomic<bool> consumer_survived{false};
  std::atomic<bool> killer_spinning{false};
  std::atomic<bool> put_done{false};
  auto group = std::make_unique<LoopGroup>(1);
  group->post(0, [&] {
    got = q.get();
    overwrite_stack();
    sleep(0s);  // TaskExit from destroy() is raised here
    consumer_survived = true;
  });
  group->post(0, [&] {
    // Runs after the consumer parked (posts start in order). Holds the loop
    // until the record is pushed, then stops it before it takes the record.
    killer_spinning = true;
    spin_until(put_done);
    EventLoop::current().stop();
  });
  ASSERT_TRUE(spin_until(killer_spinning));
  q.put(5);
  put_done = true;
  // The loop ends and destroy() kills the consumer; join, bounded.
  auto joined = std::async(std::launch::async, [&] { group.reset(); });
  if (joined.wait_for(kPatience) != std::future_status::ready) {
    ADD_FAILURE() << "the waiter never left: its queued record was not released by destroy()";
    std::abort();  // the group's task references this frame
  }
  EXPECT_EQ(got.load(), 5);
  EXPECT_FALSE(consumer_survived.load());
  EXPECT_EQ(q.qsize(), 0u);
}

}  // namespace
}  // namespace evergreen
