// Shared by the io tests: a fresh main-thread loop per test (a loop runs once),
// bounded() so that a broken build fails a test instead of hanging it, and
// count_open_fds() for leak checks.
#ifndef EVERGREEN_TESTS_IO_IO_FIXTURE_H_
#define EVERGREEN_TESTS_IO_IO_FIXTURE_H_

#include <dirent.h>

#include <chrono>
#include <utility>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"

namespace evergreen::testing {

using namespace std::chrono_literals;

#if defined(EVERGREEN_ASAN) || defined(EVERGREEN_TSAN)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

class IoTest : public ::testing::Test {
 protected:
  void SetUp() override { fresh_loop(); }
  void TearDown() override { fresh_loop(); }

  static void fresh_loop() {
    destroy_this_threads_loop();
  }
};

// Runs fn() under a Timeout of `limit`; if it fires, the test fails (instead
// of hanging) and bounded() returns false.
template <class F>
bool bounded(F&& fn, Duration limit = 10s) {
  Timeout deadline(limit);
  try {
    std::forward<F>(fn)();
    return true;
  } catch (const Timeout& fired) {
    if (!fired.is(deadline)) throw;
    ADD_FAILURE() << "timed out after "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(limit).count() << " ms";
    return false;
  }
}

// How many descriptors this process has open (the entries of /proc/self/fd,
// counting ".", ".." and the directory's own), or -1 if it cannot tell.
// Compare two counts; the absolute value means little.
inline int count_open_fds() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count;
}

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_IO_IO_FIXTURE_H_
