// What shuffle_seed is for: an order-dependent bug that FIFO scheduling
// always hides, found by trying 100 seeds, and replayed from its seed.
//
// The example under test starts a loader that fills in a configuration and a
// worker that reads it. The worker forgets to wait for the loader; it only
// works because the loader was spawned first and FIFO runs it first.
#include <cstdint>
#include <optional>
#include <string>

#include "evergreen/loop/task.h"
#include "evergreen/loop/testing.h"
#include "evergreen/sync/event.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"
#include "tests/testing/watchdog.h"

namespace evergreen {
namespace {

struct Service {
  std::optional<std::string> config;
  Event loaded;
  std::string worker_saw;
};

void start_buggy(Service& service) {
  spawn([&] { service.config = "v1"; });
  spawn([&] { service.worker_saw = service.config.value_or("<no config>"); });
}

void start_fixed(Service& service) {
  spawn([&] {
    service.config = "v1";
    service.loaded.set();
  });
  spawn([&] {
    service.loaded.wait();
    service.worker_saw = service.config.value_or("<no config>");
  });
}

// Runs the service once under `seed`; true if the worker saw the config.
bool works(void (*start)(Service&), std::optional<uint64_t> seed) {
  Service service;
  testing::run_with_virtual_time(
      [&] {
        start(service);
        testing::wait_idle();
      },
      testing::TestOptions{.shuffle_seed = seed});
  return service.worker_saw == "v1";
}

TEST(SeedSearchTest, HundredSeedsFindTheOrderDependentBugAndItsSeedReplaysIt) {
  testing::destroy_this_threads_loop();
  testing::WallClockWatchdog watchdog("SeedSearchTest");
  // FIFO hides the bug every time.
  for (int run = 0; run < 10; ++run) ASSERT_TRUE(works(start_buggy, std::nullopt));

  std::optional<uint64_t> failing;
  int failures = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    if (!works(start_buggy, seed)) {
      ++failures;
      if (!failing) failing = seed;
    }
  }
  ASSERT_TRUE(failing.has_value()) << "no seed out of 100 exposed the bug";
  // Two tasks, two orders: about half the seeds should fail.
  EXPECT_GT(failures, 10);
  EXPECT_LT(failures, 90);
  // The seed is the whole recipe: it fails again, every time.
  for (int replay = 0; replay < 5; ++replay) EXPECT_FALSE(works(start_buggy, *failing));

  // The fix holds under every seed.
  for (uint64_t seed = 0; seed < 100; ++seed) EXPECT_TRUE(works(start_fixed, seed)) << seed;
}

}  // namespace
}  // namespace evergreen
