// A server's life outside the happy path: closed before its serve() task ran,
// and out of descriptors while accepting.
#include <string>

#include "evergreen/io/tcp.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

namespace evergreen::io {
namespace {

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

}  // namespace
}  // namespace evergreen::io
