// Backend selection as API.md says: an explicit backend, kAuto with and
// without EVERGREEN_BACKEND, a bad EVERGREEN_BACKEND, and a kernel that
// refuses io_uring (simulated with EVERGREEN_TEST_REFUSE_IO_URING): kAuto
// quietly uses epoll and says why, an explicit io_uring throws. Each loop is
// built on a thread of its own, so no test inherits the main thread's loop.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/poller_io_uring.h"
#include "gtest/gtest.h"

namespace evergreen {
namespace {

// Sets (or, with nullptr, unsets) an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value == nullptr) {
      ::unsetenv(name);
    } else {
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Whether this kernel lets the process set up a ring at all.
bool kernel_allows_io_uring() {
  try {
    internal::IoUringPoller probe;
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

// How many of this process's fds are `kind` ("[io_uring]", "[eventpoll]").
int count_anon_inodes(const std::string& kind) {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (dirent* item = ::readdir(dir)) {
    std::string path = std::string("/proc/self/fd/") + item->d_name;
    char target[128] = {};
    if (::readlink(path.c_str(), target, sizeof target - 1) <= 0) continue;
    if (std::string(target) == "anon_inode:" + kind) ++count;
  }
  ::closedir(dir);
  return count;
}

struct Built {
  Backend backend = Backend::kAuto;
  std::string fallback_reason;
  int io_uring_fds = 0;
  int epoll_fds = 0;
  bool served_a_reader = false;
  std::string error;  // what() of an exception from the constructor
  std::optional<std::errc> error_code;
  bool invalid_argument = false;
};

// Builds a loop with `options` on a new thread and uses it: a pipe's reader
// callback must run.
Built build(LoopOptions options) {
  Built built;
  std::thread([&] {
    int before_uring = count_anon_inodes("[io_uring]");
    int before_epoll = count_anon_inodes("[eventpoll]");
    try {
      EventLoop loop(options);
      built.backend = loop.backend();
      built.fallback_reason = std::string(loop.backend_fallback_reason());
      built.io_uring_fds = count_anon_inodes("[io_uring]") - before_uring;
      built.epoll_fds = count_anon_inodes("[eventpoll]") - before_epoll;
      int fds[2];
      if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return;
      // A bound, cancelled as soon as the reader runs.
      Handler bound = loop.call_later(std::chrono::seconds(10), [&] { loop.stop(); });
      loop.add_reader(fds[0], [&] {
        built.served_a_reader = true;
        loop.remove_reader(fds[0]);
        bound.cancel();
      });
      if (::write(fds[1], "x", 1) != 1) return;
      loop.run();
      ::close(fds[0]);
      ::close(fds[1]);
    } catch (const std::invalid_argument& error) {
      built.invalid_argument = true;
      built.error = error.what();
    } catch (const std::system_error& error) {
      built.error = error.what();
      built.error_code = static_cast<std::errc>(error.code().value());
    }
  }).join();
  return built;
}

TEST(BackendTest, ExplicitEpollIsUsedWhateverTheEnvironmentSays) {
  ScopedEnv env("EVERGREEN_BACKEND", "io_uring");
  Built built = build(LoopOptions{Backend::kEpoll});
  EXPECT_EQ(built.error, "");
  EXPECT_EQ(built.backend, Backend::kEpoll);
  EXPECT_EQ(built.fallback_reason, "");
  EXPECT_EQ(built.epoll_fds, 1);
  EXPECT_EQ(built.io_uring_fds, 0);
  EXPECT_TRUE(built.served_a_reader);
}

TEST(BackendTest, ExplicitIoUringIsUsedOrThrows) {
  ScopedEnv env("EVERGREEN_BACKEND", "epoll");
  Built built = build(LoopOptions{Backend::kIoUring});
  if (!kernel_allows_io_uring()) {
    EXPECT_TRUE(built.error_code.has_value());
    EXPECT_NE(built.error.find("io_uring"), std::string::npos) << built.error;
    return;
  }
  EXPECT_EQ(built.error, "");
  EXPECT_EQ(built.backend, Backend::kIoUring);
  EXPECT_EQ(built.fallback_reason, "");
  EXPECT_EQ(built.io_uring_fds, 1);
  EXPECT_TRUE(built.served_a_reader);
}

TEST(BackendTest, AutoPrefersIoUringWhereTheKernelAllowsIt) {
  ScopedEnv env("EVERGREEN_BACKEND", nullptr);
  Built built = build(LoopOptions{});
  EXPECT_EQ(built.error, "");
  EXPECT_TRUE(built.served_a_reader);
  if (kernel_allows_io_uring()) {
    EXPECT_EQ(built.backend, Backend::kIoUring);
    EXPECT_EQ(built.fallback_reason, "");
  } else {
    EXPECT_EQ(built.backend, Backend::kEpoll);
    EXPECT_NE(built.fallback_reason, "");
  }
}

TEST(BackendTest, AnEmptyVariableCountsAsUnset) {
  ScopedEnv env("EVERGREEN_BACKEND", "");
  Built built = build(LoopOptions{});
  EXPECT_EQ(built.error, "");
  EXPECT_EQ(built.backend, kernel_allows_io_uring() ? Backend::kIoUring : Backend::kEpoll);
}

TEST(BackendTest, AutoFollowsTheEnvironmentVariable) {
  {
    ScopedEnv env("EVERGREEN_BACKEND", "epoll");
    Built built = build(LoopOptions{});
    EXPECT_EQ(built.backend, Backend::kEpoll);
    EXPECT_EQ(built.fallback_reason, "");
    EXPECT_TRUE(built.served_a_reader);
  }
  if (kernel_allows_io_uring()) {
    ScopedEnv env("EVERGREEN_BACKEND", "io_uring");
    Built built = build(LoopOptions{});
    EXPECT_EQ(built.backend, Backend::kIoUring);
    EXPECT_TRUE(built.served_a_reader);
  }
}

TEST(BackendTest, AVariableNamingNoBackendIsAnInvalidArgumentNamingIt) {
  ScopedEnv env("EVERGREEN_BACKEND", "kqueue");
  Built built = build(LoopOptions{});
  EXPECT_TRUE(built.invalid_argument);
  EXPECT_NE(built.error.find("EVERGREEN_BACKEND"), std::string::npos) << built.error;
  EXPECT_NE(built.error.find("kqueue"), std::string::npos) << built.error;
  // An explicit backend does not read the variable.
  Built explicit_epoll = build(LoopOptions{Backend::kEpoll});
  EXPECT_EQ(explicit_epoll.error, "");
  EXPECT_EQ(explicit_epoll.backend, Backend::kEpoll);
}

TEST(BackendTest, ARefusedIoUringMakesAutoUseEpollAndSayWhy) {
  ScopedEnv env("EVERGREEN_BACKEND", nullptr);
  ScopedEnv refuse("EVERGREEN_TEST_REFUSE_IO_URING", "1");
  Built built = build(LoopOptions{});
  EXPECT_EQ(built.error, "");
  EXPECT_EQ(built.backend, Backend::kEpoll);
  EXPECT_EQ(built.io_uring_fds, 0);
  EXPECT_NE(built.fallback_reason.find("io_uring"), std::string::npos) << built.fallback_reason;
  EXPECT_NE(built.fallback_reason.find("EVERGREEN_TEST_REFUSE_IO_URING"), std::string::npos)
      << built.fallback_reason;
  EXPECT_TRUE(built.served_a_reader);
}

TEST(BackendTest, ARefusedIoUringAskedForByNameThrowsSystemError) {
  ScopedEnv refuse("EVERGREEN_TEST_REFUSE_IO_URING", "1");
  {
    ScopedEnv env("EVERGREEN_BACKEND", nullptr);
    Built built = build(LoopOptions{Backend::kIoUring});
    ASSERT_TRUE(built.error_code.has_value());
    EXPECT_EQ(*built.error_code, std::errc::operation_not_permitted);
    EXPECT_NE(built.error.find("io_uring"), std::string::npos) << built.error;
  }
  {
    // Named through the environment: as loud as naming it in the code.
    ScopedEnv env("EVERGREEN_BACKEND", "io_uring");
    Built built = build(LoopOptions{});
    ASSERT_TRUE(built.error_code.has_value());
    EXPECT_EQ(*built.error_code, std::errc::operation_not_permitted);
  }
}

}  // namespace
}  // namespace evergreen
