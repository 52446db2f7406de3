// Before patch() the interposed calls are pure pass-throughs, and patch()
// switches on only the modules it is given. (Patching is process-wide and
// one-way, so this binary's tests run in order: unpatched first.)
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"
#include "patch_test_support.h"
#include "tests/fresh_loop.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::Stopwatch;

class UnpatchedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::destroy_this_threads_loop();
    loop_.emplace();
  }
  void TearDown() override { loop_.reset(); }
  EventLoop& loop() { return *loop_; }

  // Whether a socket a task creates is made non-blocking underneath (on a
  // loop of its own: a loop runs once).
  bool task_socket_is_nonblocking_underneath() {
    loop_.reset();
    loop_.emplace();
    int flags = 0;
    spawn([&] {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      flags = patch::original::fcntl(fd, F_GETFL);
      ::close(fd);
    });
    loop().run();
    return (flags & O_NONBLOCK) != 0;
  }

  std::optional<EventLoop> loop_;
};

TEST_F(UnpatchedTest, NothingIsPatchedAtFirst) {
  for (const char* module : {"socket", "select", "time", "dns"}) {
    EXPECT_FALSE(patch::is_patched(module)) << module;
  }
  EXPECT_THROW(patch::is_patched(""), std::invalid_argument);
}

TEST_F(UnpatchedTest, CallsPassStraightThroughBeforePatch) {
  Stopwatch stopwatch;
  for (int i = 0; i < 3; ++i) spawn([] { ::usleep(100'000); });
  loop().run();
  // Each sleep blocked the whole thread: one after another.
  EXPECT_GE(stopwatch.elapsed(), 300ms);
  EXPECT_FALSE(task_socket_is_nonblocking_underneath());
}

TEST_F(UnpatchedTest, LibCallsAreCooperativeWithoutPatching) {
  Stopwatch stopwatch;
  for (int i = 0; i < 3; ++i) spawn([] { lib::time::usleep(200'000); });
  loop().run();
  EXPECT_LT(stopwatch.seconds(), 0.4);  // one after another: 0.6 s
}

TEST_F(UnpatchedTest, PatchingOneModuleLeavesTheOthersAlone) {
  patch::patch({.time = true});
  EXPECT_TRUE(patch::is_patched("time"));
  EXPECT_FALSE(patch::is_patched("socket"));
  EXPECT_FALSE(patch::is_patched("select"));
  EXPECT_FALSE(patch::is_patched("dns"));

  Stopwatch sleeps;
  for (int i = 0; i < 4; ++i) spawn([] { ::usleep(200'000); });
  loop().run();
  EXPECT_LT(sleeps.seconds(), 0.5);  // they overlap; one after another: 0.8 s

  // poll() is the select module's: it still blocks the thread, in turn.
  loop_.reset();
  loop_.emplace();
  Stopwatch polls;
  for (int i = 0; i < 3; ++i) spawn([] { ::poll(nullptr, 0, 100); });
  loop().run();
  EXPECT_GE(polls.elapsed(), 300ms);
}

TEST_F(UnpatchedTest, SocketsStayUntouchedWhileTheSocketModuleIsOff) {
  EXPECT_FALSE(task_socket_is_nonblocking_underneath());
}

}  // namespace
}  // namespace evergreen
