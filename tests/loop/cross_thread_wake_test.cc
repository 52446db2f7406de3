// The cross-thread wake-up rule: the loop's eventfd is written only while the
// loop sleeps, and a burst of pushes while it sleeps writes it once.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "evergreen/loop/internal/callback_record.h"
#include "evergreen/loop/internal/cross_thread_queue.h"
#include "gtest/gtest.h"

namespace evergreen::internal {
namespace {

std::shared_ptr<CallbackRecord> record() {
  return std::make_shared<CallbackRecord>(CallbackRecord::Kind::kFromThread, nullptr, [] {});
}

// The eventfd's counter (0 if it was not written), consuming it.
uint64_t read_counter(int fd) {
  uint64_t count = 0;
  if (read(fd, &count, sizeof count) < 0) {
    EXPECT_EQ(errno, EAGAIN);
    return 0;
  }
  return count;
}

TEST(CrossThreadWakeTest, ABusyLoopIsNotWokenThroughTheEventfd) {
  CrossThreadQueue queue;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(queue.push(record()));
  EXPECT_TRUE(queue.has_pending());
  EXPECT_EQ(queue.wakeups_written(), 0u);
  EXPECT_EQ(read_counter(queue.wake_fd()), 0u);
  std::vector<std::shared_ptr<CallbackRecord>> out;
  queue.drain(out);
  EXPECT_EQ(out.size(), 100u);
}

TEST(CrossThreadWakeTest, ABurstOfPushesFromManyThreadsWakesASleepingLoopOnce) {
  CrossThreadQueue queue;
  ASSERT_TRUE(queue.begin_sleep());
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < 250; ++i) queue.push(record());
    });
  }
  for (auto& producer : producers) producer.join();
  EXPECT_EQ(queue.wakeups_written(), 1u);
  EXPECT_EQ(read_counter(queue.wake_fd()), 1u);
  queue.end_sleep();
  std::vector<std::shared_ptr<CallbackRecord>> out;
  queue.drain(out);
  EXPECT_EQ(out.size(), 1000u);
}

TEST(CrossThreadWakeTest, EachSleepGetsItsOwnWakeUp) {
  CrossThreadQueue queue;
  std::vector<std::shared_ptr<CallbackRecord>> out;
  for (int round = 1; round <= 3; ++round) {
    ASSERT_TRUE(queue.begin_sleep());
    queue.push(record());
    queue.push(record());
    EXPECT_EQ(read_counter(queue.wake_fd()), 1u);
    queue.end_sleep();
    queue.drain(out);
  }
  EXPECT_EQ(queue.wakeups_written(), 3u);
  EXPECT_EQ(out.size(), 6u);
}

TEST(CrossThreadWakeTest, ALoopWithPendingCallbacksDoesNotSleep) {
  CrossThreadQueue queue;
  queue.push(record());
  EXPECT_FALSE(queue.begin_sleep());
  queue.push(record());
  EXPECT_EQ(queue.wakeups_written(), 0u);
}

}  // namespace
}  // namespace evergreen::internal
