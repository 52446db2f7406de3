// 10,000 TCP connections opened and closed on a loop built with the
// io_uring backend (each connect, and each read that waits, an io_uring
// operation) leave nothing behind: no fd, no registration in the loop's
// fd registry, and every close reaches the peer (a client reads end-of-file
// only once the server's socket is really closed, which a poll still in the
// ring would prevent). Memory is left to the ASan run's leak check.

#include <algorithm>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "evergreen/io/tcp.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/poller_io_uring.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using evergreen::testing::count_open_fds;
using evergreen::testing::kSanitized;
using IoUringConnectionsTest = evergreen::testing::IoTest;
using namespace std::chrono_literals;

TEST_F(IoUringConnectionsTest, TenThousandConnectionsLeaveNoFdBehind) {
  try {
    evergreen::internal::IoUringPoller probe;
  } catch (const std::system_error& error) {
    GTEST_SKIP() << "this kernel refuses io_uring: " << error.what();
  }
  EventLoop loop(LoopOptions{Backend::kIoUring});
  ASSERT_EQ(loop.backend(), Backend::kIoUring);
  size_t watched_before = evergreen::internal::Scheduler::current().fds().size();
  using Kind = evergreen::internal::KernelOperation::Kind;
  auto& scheduler = evergreen::internal::Scheduler::current();
  uint64_t connects_before = scheduler.operations_submitted(Kind::kConnect);
  uint64_t receives_before = scheduler.operations_submitted(Kind::kRecv);
  int fds_before = count_open_fds();
  {
    // The server answers one line and closes first (TIME_WAIT on its side,
    // so the client's ephemeral ports are not used up).
    TCPServer server([](std::shared_ptr<StreamConnection> connection) {
      connection->write(connection->read_until("\n"));
    });
    server.bind({"127.0.0.1", 0});
    auto serving = spawn([&] { server.serve(1024); });
    const int total = kSanitized ? 2000 : 10000;
    constexpr int kWorkers = 20;
    int started = 0;
    int finished = 0;
    Address target = server.sockname();
    std::vector<std::shared_ptr<Task>> workers;
    for (int w = 0; w < kWorkers; ++w) {
      workers.push_back(spawn([&] {
        while (started < total) {
          ++started;
          TCPClient client;
          client.connect(target);
          client.write("x\n");
          EXPECT_EQ(client.read_until("\n"), "x\n");
          // End-of-file: the server's socket is closed, not held by the ring.
          EXPECT_EQ(client.read_bytes(1), "");
          ++finished;
        }
      }));
    }
    bounded(
        [&] {
          for (auto& worker : workers) worker->join();
          while (server.connection_count() > 0) sleep(1ms);
        },
        120s);
    EXPECT_EQ(finished, total);
    server.close();
    bounded([&] { serving->join(); });
  }
  // Every connect, and the reads that found nothing queued, went through the
  // ring: the descriptors above were released after their ring operations.
  EXPECT_GE(scheduler.operations_submitted(Kind::kConnect) - connects_before,
            static_cast<uint64_t>(kSanitized ? 2000 : 10000));
  EXPECT_GT(scheduler.operations_submitted(Kind::kRecv) - receives_before, 0u);
  EXPECT_EQ(count_open_fds(), fds_before);
  EXPECT_EQ(evergreen::internal::Scheduler::current().fds().size(), watched_before);
  loop.destroy();
}

}  // namespace
}  // namespace evergreen::io
