// With //patch and patch(), the patched libc time calls follow the virtual
// clock on the thread running run_with_virtual_time(): the sleeps,
// clock_gettime(CLOCK_MONOTONIC) (and so steady_clock::now()) and time().
// Other clocks and other threads keep the real time.
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/testing.h"
#include "evergreen/patch/patch.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"
#include "tests/testing/watchdog.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

std::chrono::nanoseconds monotonic() {
  timespec now{};
  EXPECT_EQ(::clock_gettime(CLOCK_MONOTONIC, &now), 0);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

TEST(PatchedTimeTest, PatchedTimeCallsFollowTheVirtualClock) {
  testing::destroy_this_threads_loop();
  testing::WallClockWatchdog watchdog("PatchedTimeTest");
  patch::patch();
  testing::run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    time_t wall_start = ::time(nullptr);
    auto task = spawn([&] {
      EXPECT_EQ(monotonic(), start.time_since_epoch());
      EXPECT_EQ(::sleep(3600), 0u);
      EXPECT_EQ(monotonic() - start.time_since_epoch(), 1h);
      EXPECT_EQ(::usleep(250'000), 0);
      timespec half{1, 500'000'000};
      EXPECT_EQ(::nanosleep(&half, nullptr), 0);
      EXPECT_EQ(monotonic() - start.time_since_epoch(), 1h + 1750ms);
      EXPECT_EQ(std::chrono::steady_clock::now() - start, 1h + 1750ms);
      // Wall-clock seconds move with the virtual clock (a whole hour; the
      // start may have been just before a second boundary).
      time_t wall_now = 0;
      EXPECT_EQ(::time(&wall_now), wall_now);
      EXPECT_GE(wall_now - wall_start, 3601);
      EXPECT_LE(wall_now - wall_start, 3602);
      // Another thread keeps the real clock.
      std::chrono::nanoseconds other_thread{};
      std::thread([&] { other_thread = monotonic(); }).join();
      EXPECT_GT(std::chrono::abs(other_thread - monotonic()), 1h);
    });
    task->join();
    EXPECT_EQ(EventLoop::current().time() - start, 1h + 1750ms);
  });
  // Back to real time once the virtual loop is gone.
  auto real = monotonic();
  EXPECT_LT(std::chrono::abs(real - std::chrono::steady_clock::now().time_since_epoch()), 1h);
}

}  // namespace
}  // namespace evergreen
