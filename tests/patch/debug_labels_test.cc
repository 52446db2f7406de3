// list_tasks() names the patched libc call a task is parked in: "recv",
// "usleep", "poll".
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "evergreen/loop/debug.h"
#include "evergreen/loop/task.h"
#include "evergreen/patch/patch.h"
#include "patch_test_support.h"

namespace evergreen {
namespace {

using PatchDebugTest = testing::PatchedTest;

std::string waiting_on(const std::string& name) {
  for (const TaskInfo& task : list_tasks()) {
    if (task.name == name)
      return task.state == TaskState::kBlocked ? task.waiting_on : "<not blocked>";
  }
  return "<no such task>";
}

TEST_F(PatchDebugTest, ParkedLibcCallsAreNamed) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto receiver = std::make_shared<Task>(
      [&] {
        char byte;
        ::recv(fds[0], &byte, 1, 0);
      },
      "receiver");
  auto sleeper = std::make_shared<Task>([] { ::usleep(60'000'000); }, "sleeper");
  auto poller = std::make_shared<Task>(
      [&] {
        pollfd watched{fds[0], POLLIN, 0};
        ::poll(&watched, 1, 60'000);
      },
      "poller");
  receiver->start();
  sleeper->start();
  poller->start();
  sleep(std::chrono::milliseconds(10));
  EXPECT_EQ(waiting_on("receiver"), "recv");
  EXPECT_EQ(waiting_on("sleeper"), "usleep");
  EXPECT_EQ(waiting_on("poller"), "poll");
  receiver->kill();
  sleeper->kill();
  poller->kill();
  receiver->join();
  sleeper->join();
  poller->join();
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace evergreen
