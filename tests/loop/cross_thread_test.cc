#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::LoopTest;

TEST_F(LoopTest, CallFromThreadFromFourThreadsDeliversEveryCallback) {
  constexpr int kThreads = 4, kCallsPerThread = 10000;
  int delivered = 0;  // touched only on the loop thread
  std::vector<std::vector<int>> order(kThreads);
  std::thread::id loop_thread = std::this_thread::get_id();
  bool all_on_loop_thread = true;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        loop().call_from_thread([&, t, i] {
          ++delivered;
          order[t].push_back(i);
          if (std::this_thread::get_id() != loop_thread) all_on_loop_thread = false;
          if (delivered == kThreads * kCallsPerThread) loop().stop();
        });
      }
    });
  }
  loop().call_later(30s, [&] { loop().stop(); });  // bound: fails rather than hangs
  loop().run_forever();
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(delivered, kThreads * kCallsPerThread);
  EXPECT_TRUE(all_on_loop_thread);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(order[t].size(), static_cast<size_t>(kCallsPerThread));
    for (int i = 0; i < kCallsPerThread; ++i) ASSERT_EQ(order[t][i], i);  // per-thread FIFO
  }
}

TEST_F(LoopTest, CallFromThreadWakesASleepingLoop) {
  std::atomic<bool> loop_sleeping{false};
  bool woke = false;
  std::thread other([&] {
    while (!loop_sleeping.load()) std::this_thread::yield();
    std::this_thread::sleep_for(20ms);  // the loop is now blocked in its poll
    loop().call_from_thread([&] {
      woke = true;
      loop().stop();
    });
  });
  loop().call_soon([&] { loop_sleeping = true; });
  loop().call_later(30s, [&] { loop().stop(); });
  loop().run_forever();
  other.join();
  EXPECT_TRUE(woke);
}

TEST_F(LoopTest, CancelledCrossThreadCallbackDoesNotRun) {
  bool ran = false;
  Handler handler;
  std::thread other([&] { handler = loop().call_from_thread([&] { ran = true; }); });
  other.join();
  handler.cancel();
  loop().run();
  EXPECT_FALSE(ran);
}

TEST_F(LoopTest, CallFromThreadAfterDestroyThrows) {
  loop().destroy();
  bool threw = false;
  std::thread other([&] {
    try {
      loop().call_from_thread([] {});
    } catch (const std::runtime_error&) {
      threw = true;
    }
  });
  other.join();
  EXPECT_TRUE(threw);
}

}  // namespace
}  // namespace evergreen
