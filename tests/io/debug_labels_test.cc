// list_tasks() names the I/O calls tasks block in: read_until, accept,
// getaddrinfo, receive.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "evergreen/io/dns.h"
#include "evergreen/io/tcp.h"
#include "evergreen/io/udp.h"
#include "evergreen/loop/debug.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/echo_server.h"
#include "tests/io/io_fixture.h"

namespace evergreen::io {
namespace {

using namespace std::chrono_literals;

using evergreen::testing::bounded;
using evergreen::testing::RunningEcho;
using DebugLabelsTest = evergreen::testing::IoTest;

std::string waiting_on(const std::string& name) {
  for (const TaskInfo& task : list_tasks()) {
    if (task.name == name)
      return task.state == TaskState::kBlocked ? task.waiting_on : "<not blocked>";
  }
  return "<no such task>";
}

TEST_F(DebugLabelsTest, StreamAndServerWaitsAreNamed) {
  RunningEcho echo;
  bounded([&] {
    TCPClient client;
    client.connect(echo.address());
    auto reader = std::make_shared<Task>([&] { client.read_until("\n"); }, "reader");
    reader->start();
    sleep(10ms);  // the server takes the connection; the reader blocks
    EXPECT_EQ(waiting_on(echo.serving->name()), "accept");
    EXPECT_EQ(waiting_on("reader"), "read_until");
    reader->kill();
    reader->join();
    client.close();
  });
}

TEST_F(DebugLabelsTest, ResolvingAndReceivingAreNamed) {
  // A DNS server that never answers.
  UDPEndpoint silent;
  silent.bind({"127.0.0.1", 0});
  set_dns_servers(silent.sockname().to_string());
  auto resolver = std::make_shared<Task>([] { getaddrinfo("nowhere.example", 80); }, "resolver");
  // The resolver's queries arrive at `silent`; nothing is ever sent to `quiet`.
  UDPEndpoint quiet;
  quiet.bind({"127.0.0.1", 0});
  auto receiver = std::make_shared<Task>([&] { quiet.receive(); }, "receiver");
  resolver->start();
  receiver->start();
  bounded([&] {
    sleep(10ms);
    EXPECT_EQ(waiting_on("resolver"), "getaddrinfo");
    EXPECT_EQ(waiting_on("receiver"), "receive");
    resolver->kill();
    receiver->kill();
    resolver->join();
    receiver->join();
  });
  quiet.close();
  silent.close();
}

}  // namespace
}  // namespace evergreen::io
