// Serving from several loops: BindOptions{reuse_port} for TCP and UDP, and
// BalancedTCPServer handing connections to the least-loaded loop.
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "evergreen/io/balanced_tcp_server.h"
#include "evergreen/io/bind_options.h"
#include "evergreen/io/errors.h"
#include "evergreen/io/tcp.h"
#include "evergreen/io/udp.h"
#include "evergreen/loop/loop_group.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

namespace evergreen::io {
namespace {

using namespace std::chrono_literals;

using evergreen::testing::bounded;
using MulticoreIoTest = evergreen::testing::IoTest;

constexpr auto kPatience = 20s;

template <class T>
T wait_for(std::future<T>& future) {
  if (future.wait_for(kPatience) != std::future_status::ready) {
    ADD_FAILURE() << "timed out";
    std::abort();
  }
  return future.get();
}

TEST_F(MulticoreIoTest, TCPServersShareAPortOnlyWithReusePort) {
  TCPServer first, second, third;
  first.bind({"127.0.0.1", 0}, BindOptions{.reuse_port = true});
  Address address = first.sockname();
  second.bind(address, BindOptions{.reuse_port = true});
  EXPECT_EQ(second.sockname().port, address.port);
  try {
    third.bind(address);
    FAIL() << "expected EADDRINUSE";
  } catch (const TCPError& error) {
    EXPECT_EQ(error.code().value(), EADDRINUSE) << error.what();
  }
}

TEST_F(MulticoreIoTest, OneReusePortServerPerLoopAndTheKernelSpreadsConnections) {
  LoopGroup group(2);
  std::promise<uint16_t> port;
  std::promise<void> second_listening;
  auto serve_on_this_loop = [](uint16_t at, const std::function<void(uint16_t)>& bound) {
    TCPServer server([](std::shared_ptr<StreamConnection> connection) {
      connection->write(std::to_string(LoopGroup::current_index()));
    });
    server.bind({"127.0.0.1", at}, BindOptions{.reuse_port = true});
    bound(server.sockname().port);
    server.serve();
  };
  group.post(0, [&] { serve_on_this_loop(0, [&](uint16_t p) { port.set_value(p); }); });
  auto port_future = port.get_future();
  uint16_t shared_port = wait_for(port_future);
  group.post(1, [&] {
    serve_on_this_loop(shared_port, [&](uint16_t) { second_listening.set_value(); });
  });
  auto listening = second_listening.get_future();
  wait_for(listening);

  std::set<std::string> loops_seen;
  ASSERT_TRUE(bounded([&] {
    // 64 connections from distinct source ports: the kernel's hash sends
    // them all to one socket with probability 2^-63.
    for (int i = 0; i < 64; ++i) {
      TCPClient client;
      client.connect({"127.0.0.1", shared_port});
      loops_seen.insert(client.read_bytes(1));
    }
  }, kPatience));
  EXPECT_EQ(loops_seen, (std::set<std::string>{"0", "1"}));
}

TEST_F(MulticoreIoTest, UDPEndpointsShareAPortOnlyWithReusePort) {
  UDPEndpoint first, second, third;
  first.bind({"127.0.0.1", 0}, BindOptions{.reuse_port = true});
  Address address = first.sockname();
  second.bind(address, BindOptions{.reuse_port = true});
  try {
    third.bind(address);
    FAIL() << "expected EADDRINUSE";
  } catch (const UDPError& error) {
    EXPECT_EQ(error.code().value(), EADDRINUSE) << error.what();
  }
  int received[2] = {0, 0};
  auto receiver = [&](UDPEndpoint& endpoint, int& count) {
    return spawn([&] {
      for (;;) {
        endpoint.receive();
        ++count;
      }
    });
  };
  auto r0 = receiver(first, received[0]);
  auto r1 = receiver(second, received[1]);
  ASSERT_TRUE(bounded([&] {
    for (int i = 0; i < 64; ++i) {
      UDPEndpoint client;  // a new source port each time
      client.send("x", address);
      client.flush();
    }
    while (received[0] + received[1] < 64) sleep(1ms);
  }, kPatience));
  EXPECT_GT(received[0], 0);
  EXPECT_GT(received[1], 0);
  r0->kill();
  r1->kill();
  r0->join();
  r1->join();
}

TEST_F(MulticoreIoTest, BalancedServerHandsEachConnectionToTheLoopWithFewestLive) {
  LoopGroup group(2);
  BalancedTCPServer server(group, [](std::shared_ptr<StreamConnection> connection) {
    EXPECT_EQ(connection->server(), nullptr);
    connection->write(std::to_string(LoopGroup::current_index()));
    connection->read_bytes(1);  // until the client closes
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  Address address = server.sockname();

  std::vector<std::unique_ptr<TCPClient>> clients;
  std::string loops;
  auto connect_one = [&] {
    auto client = std::make_unique<TCPClient>();
    client->connect(address);
    loops += client->read_bytes(1);  // the handler runs: the connection is counted
    clients.push_back(std::move(client));
  };
  auto wait_until_live = [&](std::vector<size_t> expected) {
    while (server.live_connections() != expected) sleep(1ms);
  };
  ASSERT_TRUE(bounded([&] {
    for (int i = 0; i < 4; ++i) connect_one();
    EXPECT_EQ(loops, "0101") << "ties go to the lowest index, so they alternate";
    wait_until_live({2, 2});
    // Loop 0 loses both of its connections: the next two both go there.
    clients[0]->close();
    clients[2]->close();
    wait_until_live({0, 2});
    connect_one();
    connect_one();
    EXPECT_EQ(loops, "010100");
    wait_until_live({2, 2});
    for (auto& client : clients) client->close();
    wait_until_live({0, 0});
  }, kPatience));
  server.close();
  EXPECT_TRUE(serving->join(5s));
}

TEST_F(MulticoreIoTest, BalancedServerClosesConnectionsOnceTheGroupStopped) {
  LoopGroup group(1);
  BalancedTCPServer server(group, [](std::shared_ptr<StreamConnection> connection) {
    connection->write("served");
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  group.stop();
  group.join();
  ASSERT_TRUE(bounded([&] {
    TCPClient client;
    client.connect(server.sockname());
    EXPECT_EQ(client.read_bytes(16), "") << "closed without being served";
  }, kPatience));
  EXPECT_EQ(server.live_connections(), std::vector<size_t>{0});
  server.close();
  EXPECT_TRUE(serving->join(5s));
}

}  // namespace
}  // namespace evergreen::io
