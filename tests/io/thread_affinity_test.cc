// The single-loop rule for streams, servers and UDP endpoints (API.md,
// Conventions): each belongs to the thread that first uses it; a member
// called from another thread throws std::logic_error naming the object and
// both threads, and leaves the object as it was. Checked only in builds
// without NDEBUG: skipped otherwise.
#include <chrono>
#include <memory>
#include <string>

#include "evergreen/io/pipe.h"
#include "evergreen/io/tcp.h"
#include "evergreen/io/udp.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/foreign_thread.h"
#include "tests/io/io_fixture.h"

using namespace std::chrono_literals;

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using evergreen::testing::call_on_another_thread;
using evergreen::testing::expect_wrong_thread_error;

class ThreadAffinityTest : public evergreen::testing::IoTest {
 protected:
  void SetUp() override {
    if (!evergreen::testing::thread_checks_compiled_in()) {
      GTEST_SKIP() << "NDEBUG build: the owner-thread check is compiled out";
    }
    IoTest::SetUp();
  }
};

void echo(std::shared_ptr<StreamConnection> connection) {
  for (;;) {
    std::string line = connection->read_until("\n");
    if (line.empty()) break;
    connection->write(line);
  }
}

TEST_F(ThreadAffinityTest, TcpClientAndServerUsedFromAnotherThreadThrow) {
  TCPServer server(echo);
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    TCPClient client;
    client.connect(server.sockname());
    auto write = call_on_another_thread([&] { client.write("from elsewhere\n"); });
    expect_wrong_thread_error(write, "io::TCPClient");
    EXPECT_NE(write.message.find("write"), std::string::npos) << write.message;
    expect_wrong_thread_error(call_on_another_thread([&] { client.read_until("\n"); }),
                              "io::TCPClient");
    expect_wrong_thread_error(call_on_another_thread([&] { client.close(); }), "io::TCPClient");
    expect_wrong_thread_error(call_on_another_thread([&] { server.close(); }), "io::TCPServer");
    // Nothing was written, closed or read by the foreign calls.
    EXPECT_FALSE(client.closed());
    EXPECT_EQ(client.pending_output(), 0u);
    client.write("PING\n");
    EXPECT_EQ(client.read_until("\n"), "PING\n");
  });
  server.close();
  EXPECT_TRUE(serving->join(5s));
}

TEST_F(ThreadAffinityTest, UdpEndpointUsedFromAnotherThreadThrows) {
  UDPEndpoint endpoint;
  endpoint.bind({"127.0.0.1", 0});
  Address self = endpoint.sockname();
  expect_wrong_thread_error(call_on_another_thread([&] { endpoint.send("x", self); }),
                            "io::UDPEndpoint");
  expect_wrong_thread_error(call_on_another_thread([&] { endpoint.close(); }), "io::UDPEndpoint");
  EXPECT_FALSE(endpoint.closed());
}

TEST_F(ThreadAffinityTest, AStreamConstructedHereMayBeOpenedOnAnotherLoop) {
  // Binding happens at first use: a client built on this thread and used
  // only by another thread's loop is that loop's, and destroying it here
  // afterwards is allowed (destructors are not checked).
  auto client = std::make_unique<PipeClient>();
  std::string error;
  std::thread owner([&] {
    EventLoop loop;
    try {
      client->connect("/nonexistent/evergreen-affinity.sock");
    } catch (const PipeError& e) {
      error = e.what();
    }
    loop.destroy();
  });
  owner.join();
  EXPECT_NE(error.find("evergreen-affinity.sock"), std::string::npos) << error;
  client.reset();
}

}  // namespace
}  // namespace evergreen::io
