// Spinning before sleep (loop/internal/cross_thread_spin.h): a loop that
// recently received work from another thread watches its queue for a while
// instead of sleeping, so a producer writes no eventfd meanwhile; a loop
// that received nothing, or whose window ran out, sleeps and is woken
// through the eventfd as before.
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/callback_record.h"
#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/cross_thread_spin.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/loop_group.h"
#include "gtest/gtest.h"

namespace evergreen::internal {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<CallbackRecord> record() {
  return std::make_shared<CallbackRecord>(CallbackRecord::Kind::kFromThread, nullptr, [] {});
}

LoopGroup make_group(Duration spin) {
  LoopGroupOptions options;
  options.name = "spintest";
  options.loop.cross_thread_spin = spin;
  return LoopGroup(1, options);
}

// Posts a function to loop 0 and waits until it has run.
void post_and_wait(LoopGroup& group) {
  std::promise<void> ran;
  group.post(0, [&] { ran.set_value(); });
  ran.get_future().wait();
}

std::shared_ptr<CrossThreadQueue> queue_of_loop_0(LoopGroup& group) {
  std::promise<std::shared_ptr<CrossThreadQueue>> queue;
  group.post(0, [&] { queue.set_value(Scheduler::current().cross_thread_queue()); });
  return queue.get_future().get();
}

// Waits up to `limit` for the loop owning `queue` to sleep in its poller.
bool wait_until_sleeping(const CrossThreadQueue& queue, Duration limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!queue.sleeping()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(CrossThreadSpinTest, WithoutAWindowItNeverSpins) {
  CrossThreadQueue queue;
  CrossThreadSpin spin(Duration::zero());
  spin.note_arrival();
  EXPECT_FALSE(spin.spin_for_work(queue));
  EXPECT_EQ(spin.spins_that_found_work(), 0u);
}

TEST(CrossThreadSpinTest, ALoopThatReceivedNothingNeverSpins) {
  CrossThreadQueue queue;
  CrossThreadSpin spin(std::chrono::hours(1));
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(spin.spin_for_work(queue));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30min);
}

TEST(CrossThreadSpinTest, SpinningAfterAnArrivalSeesAPushFromAnotherThread) {
  CrossThreadQueue queue;
  CrossThreadSpin spin(60s);
  spin.note_arrival();
  std::thread producer([&] {
    std::this_thread::sleep_for(5ms);
    queue.push(record());
  });
  EXPECT_TRUE(spin.spin_for_work(queue));
  producer.join();
  EXPECT_EQ(spin.spins_that_found_work(), 1u);
  EXPECT_EQ(queue.wakeups_written(), 0u);  // the loop was not asleep
}

TEST(CrossThreadSpinTest, SpinningEndsWhenTheWindowRunsOut) {
  CrossThreadQueue queue;
  CrossThreadSpin spin(2ms);
  spin.note_arrival();
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(spin.spin_for_work(queue));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 2ms);
  // Once the window has passed, the next attempt does not spin at all.
  EXPECT_FALSE(spin.spin_for_work(queue));
}

TEST(CrossThreadSpinTest, ANegativeWindowIsRefused) {
  try {
    EventLoop loop(LoopOptions{.cross_thread_spin = -1ns});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("cross_thread_spin"), std::string::npos);
  }
}

// The waker skips the eventfd write while the target spins: with a window
// far longer than the test, work posted to a loop that got work before
// (and has been idle for a while since) never needs a wake-up.
TEST(CrossThreadSpinTest, PostsToASpinningLoopWriteNoEventfd) {
  LoopGroup group = make_group(60s);
  std::shared_ptr<CrossThreadQueue> queue = queue_of_loop_0(group);
  post_and_wait(group);
  uint64_t before = queue->wakeups_written();
  for (int round = 0; round < 10; ++round) {
    // Long enough for a loop without spinning to be asleep in its poller.
    std::this_thread::sleep_for(20ms);
    post_and_wait(group);
  }
  EXPECT_EQ(queue->wakeups_written(), before);
  EXPECT_FALSE(queue->sleeping());
}

// An idle group does not burn CPU forever: once the window has run out the
// loop sleeps, and the next post has to write the eventfd.
TEST(CrossThreadSpinTest, AnIdleLoopStopsSpinningAndSleeps) {
  LoopGroup group = make_group(1ms);
  std::shared_ptr<CrossThreadQueue> queue = queue_of_loop_0(group);
  for (int round = 0; round < 3; ++round) {
    post_and_wait(group);
    ASSERT_TRUE(wait_until_sleeping(*queue, 10s));
    uint64_t before = queue->wakeups_written();
    post_and_wait(group);
    EXPECT_EQ(queue->wakeups_written(), before + 1);
  }
}

// A loop made on its own does not spin unless asked: after work from
// another thread it goes to sleep, and the next call writes the eventfd.
TEST(CrossThreadSpinTest, AStandaloneLoopDoesNotSpinByDefault) {
  std::promise<std::shared_ptr<CrossThreadQueue>> queue_promise;
  std::promise<EventLoop*> loop_promise;
  std::thread loop_thread([&] {
    EventLoop loop;
    queue_promise.set_value(Scheduler::current().cross_thread_queue());
    loop_promise.set_value(&loop);
    loop.run_forever();
  });
  std::shared_ptr<CrossThreadQueue> queue = queue_promise.get_future().get();
  EventLoop* loop = loop_promise.get_future().get();
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(wait_until_sleeping(*queue, 10s));
    uint64_t before = queue->wakeups_written();
    std::promise<void> ran;
    loop->call_from_thread([&] { ran.set_value(); });
    ran.get_future().wait();
    EXPECT_EQ(queue->wakeups_written(), before + 1);
  }
  loop->call_from_thread([loop] { loop->stop(); });
  loop_thread.join();
}

}  // namespace
}  // namespace evergreen::internal
