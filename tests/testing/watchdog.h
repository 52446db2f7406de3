// A wall-clock bound for virtual-time tests: a broken virtual clock would make
// a test really sleep its hours, so a watchdog thread ends the process with a
// message if the test has not dismissed it (by going out of scope) in time.
#ifndef EVERGREEN_TESTS_TESTING_WATCHDOG_H_
#define EVERGREEN_TESTS_TESTING_WATCHDOG_H_

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace evergreen::testing {

class WallClockWatchdog {
 public:
  explicit WallClockWatchdog(std::string what,
                             std::chrono::seconds limit = std::chrono::seconds(30))
      : thread_([this, what = std::move(what), limit] {
          std::unique_lock lock(mutex_);
          if (!done_changed_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "%s: still running after %lld s of real time: virtual time "
                         "does not move as it should\n", what.c_str(),
                         static_cast<long long>(limit.count()));
            std::abort();
          }
        }) {}
  ~WallClockWatchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_changed_.notify_all();
    thread_.join();
  }
  WallClockWatchdog(const WallClockWatchdog&) = delete;
  WallClockWatchdog& operator=(const WallClockWatchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable done_changed_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_TESTING_WATCHDOG_H_
