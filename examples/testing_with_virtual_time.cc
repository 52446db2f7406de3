// Testing your evergreen code: a retry loop with exponential back-off, tested
// in virtual time. The test sees every attempt at its exact virtual second,
// and two minutes of back-off take a fraction of a second of real time.
//
//   bazel run //examples:testing_with_virtual_time
//
// Then it looks for an order-dependent bug by trying 100 shuffle seeds, and
// prints the first seed that shows it (pass it back in TestOptions to replay).
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/testing.h"
#include "evergreen/sync/queue.h"

using namespace std::chrono_literals;
using evergreen::EventLoop;
using evergreen::TimePoint;

// The code under test: calls `attempt` until it succeeds, waiting 1 s, 2 s,
// 4 s ... (at most 64 s) in between.
template <class F>
int retry_with_backoff(F attempt) {
  evergreen::Duration backoff = 1s;
  for (int tries = 1;; ++tries) {
    if (attempt()) return tries;
    evergreen::sleep(backoff);
    backoff = std::min<evergreen::Duration>(backoff * 2, 64s);
  }
}

int main() {
  // 1. Virtual time: sleeps return at once, the clock jumps to each deadline.
  auto wall_start = std::chrono::steady_clock::now();
  evergreen::testing::run_with_virtual_time([] {
    TimePoint start = EventLoop::current().time();
    int failures_left = 7;
    retry_with_backoff([&] {
      auto at =
          std::chrono::duration_cast<std::chrono::seconds>(EventLoop::current().time() - start);
      std::printf("attempt at t = %3lld s\n", static_cast<long long>(at.count()));
      return failures_left-- == 0;
    });
  });
  std::printf("127 s of back-off in %.3f s of real time\n\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());

  // 2. wait_idle(): let every task run until it blocks, then look.
  evergreen::testing::run_with_virtual_time([] {
    evergreen::Queue<int> jobs;
    int handled = 0;
    auto worker = evergreen::spawn([&] {
      for (;;) {
        jobs.get();
        ++handled;
      }
    });
    for (int i = 0; i < 3; ++i) jobs.put(i);
    evergreen::testing::wait_idle();  // the worker has drained the queue and blocks again
    std::printf("after wait_idle(): %d jobs handled\n\n", handled);
  });  // the worker, still blocked, is killed here

  // 3. Seeds: a worker that assumes the loader (spawned first) already ran.
  for (uint64_t seed = 0; seed < 100; ++seed) {
    std::optional<std::string> config;
    std::string seen;
    evergreen::testing::run_with_virtual_time(
        [&] {
          evergreen::spawn([&] { config = "v1"; });
          evergreen::spawn([&] { seen = config.value_or("<none>"); });  // the bug: no wait
          evergreen::testing::wait_idle();
        },
        evergreen::testing::TestOptions{.shuffle_seed = seed});
    if (seen != "v1") {
      std::printf("shuffle_seed %llu shows the bug: the worker saw %s\n",
                  static_cast<unsigned long long>(seed), seen.c_str());
      return 0;
    }
  }
  std::printf("no seed out of 100 showed the bug\n");
  return 1;
}
