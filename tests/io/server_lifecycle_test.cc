// A server's life outside the happy path: closed before its serve() task ran,
// and out of descriptors while accepting.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "evergreen/io/tcp.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/event.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

using namespace std::chrono_literals;

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using ServerLifecycleTest = evergreen::testing::IoTest;

TEST_F(ServerLifecycleTest, CloseBeforeTheServeTaskRanEndsItQuietly) {
  TCPServer server;
  server.bind({"127.0.0.1", 0});
  bool returned = false;
  auto serving = spawn([&] {
    server.serve();
    returned = true;
  });
  ::testing::internal::CaptureStderr();
  server.close();  // the task has not run yet
  bool ended = serving->join(5s);
  std::string reported = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(ended);
  EXPECT_TRUE(returned) << "serve() returned normally";
  EXPECT_EQ(reported, "") << "nothing is reported";
}

TEST_F(ServerLifecycleTest, ServeOnAServerNeverBoundStillThrows) {
  TCPServer server;
  server.close();
  EXPECT_THROW(server.serve(), TCPError);
}

size_t count(const std::string& text, const std::string& word) {
  size_t n = 0;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

TEST_F(ServerLifecycleTest, AcceptOutOfDescriptorsIsReportedOnceAndRecovers) {
  Event accepted;
  TCPServer server([&](std::shared_ptr<StreamConnection> connection) {
    accepted.set();
    connection->write("hi\n");
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  // One connection served before descriptors run out. Under UBSan this also
  // fills its type-check cache for the objects used below: a cache miss
  // probes memory through a pipe(), which fails without a free descriptor
  // and is then reported as a bad dynamic type.
  ASSERT_TRUE(bounded([&] {
    TCPClient client;
    client.connect(server.sockname());
    EXPECT_TRUE(accepted.wait(5s));
    EXPECT_EQ(client.read_until("\n"), "hi\n");
    sleep(1ms);
    spawn([] { sleep(1ms); })->join();
  }));
  accepted.clear();

  ::testing::internal::CaptureStderr();  // opens its file now, while fds are free
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  // A low limit, then every free descriptor below it taken: the process is
  // out of descriptors, as a loaded server would be.
  int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(probe, 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(probe) + 64;
  ::close(probe);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  // On io_uring the accept waiting in the ring took its descriptor limit
  // when it was submitted (the kernel reads RLIMIT_NOFILE at submission):
  // start serving again, so the next accept is submitted under the low limit
  // (while descriptors are still free: UBSan's type check in kill() needs one).
  // This also kills serve() during a ring accept, which must end it cleanly.
  if (EventLoop::current().backend() == Backend::kIoUring) {
    serving->kill();
    ASSERT_TRUE(serving->join(5s));
    serving = spawn([&] { server.serve(); });
  }
  // Gives the descriptors and the limit back however the test ends.
  struct Release {
    ~Release() { run(); }
    void run() {
      for (int fd : fillers) ::close(fd);
      fillers.clear();
      setrlimit(RLIMIT_NOFILE, &saved);
    }
    std::vector<int> fillers;
    rlimit saved;
  } release{{}, saved};
  std::vector<int>& fillers = release.fillers;
  for (;;) {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    fillers.push_back(fd);
  }
  ASSERT_FALSE(fillers.empty());
  // One descriptor for the client; the server's accept then has none.
  ::close(fillers.back());
  fillers.pop_back();

  bool reached = bounded([&] {
    TCPClient client;
    client.connect(server.sockname());  // completes in the kernel's backlog
    sleep(200ms);                       // about ten accept retries
    EXPECT_FALSE(accepted.is_set());
    // Descriptors free up: accept recovers. Two, because Linux takes the
    // new descriptor before it looks at the queue: with none free, even the
    // accept that would find the queue empty fails with EMFILE.
    for (int i = 0; i < 2; ++i) {
      ::close(fillers.back());
      fillers.pop_back();
    }
    EXPECT_TRUE(accepted.wait(5s));
    EXPECT_EQ(client.read_until("\n"), "hi\n");
  });
  release.run();
  std::string reported = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(reached);
  EXPECT_EQ(count(reported, "EMFILE"), 1u) << reported;
  EXPECT_NE(reported.find("TCP server 127.0.0.1:"), std::string::npos) << reported;
  server.close();
  EXPECT_TRUE(serving->join(5s));
}

}  // namespace
}  // namespace evergreen::io
