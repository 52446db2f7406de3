// TCP over loopback: the seed's tests (read, read error, shutdown), servers
// running connections in tasks, errors a user meets, and load: 1,000
// concurrent clients, and 20,000 short connections that must not leak.
#include "evergreen/io/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "evergreen/io/dns.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using evergreen::testing::kSanitized;
using TcpTest = evergreen::testing::IoTest;

// The seed's echo server.
class EchoServer : public TCPServer {
 public:
  void handle_connection(std::shared_ptr<StreamConnection> connection) override {
    for (;;) {
      std::string line = connection->read_until("\n");
      if (line.empty()) break;
      connection->write(line);
    }
  }
};

// An echo server on an ephemeral loopback port, served by a task.
struct RunningEcho {
  RunningEcho(int backlog = 128) {
    server.bind({"127.0.0.1", 0});
    serving = spawn([this, backlog] { server.serve(backlog); });
    sleep(0s);  // let it start serving
  }
  ~RunningEcho() {
    server.close();
    serving->join(5s);
  }
  Address address() const { return server.sockname(); }
  EchoServer server;
  std::shared_ptr<Task> serving;
};

TEST_F(TcpTest, Read) {
  RunningEcho echo;
  bounded([&] {
    TCPClient client;
    client.connect(echo.address());
    EXPECT_TRUE(client.write("PING\n"));
    EXPECT_EQ(client.read_until("\n"), "PING\n");
    client.close();
  });
}

TEST_F(TcpTest, ReadError) {
  RunningEcho echo;
  bounded([&] {
    TCPClient client;
    client.connect(echo.address());
    sleep(10ms);
    client.close();
    EXPECT_THROW(client.read_until("\n"), TCPError);
  });
}

TEST_F(TcpTest, Shutdown) {
  RunningEcho echo;
  bounded(
      [&] {
        TCPClient client;
        client.connect(echo.address());
        // A small send buffer fills after a few thousand writes.
        int small = 16 * 1024;
        setsockopt(client.fileno(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        // Read the echoes meanwhile, so the server is never stuck writing.
        size_t echoed = 0;
        auto reader = spawn([&] {
          for (;;) {
            std::string data = client.read_bytes(1 << 16);
            if (data.empty()) break;
            echoed += data.size();
          }
        });
        size_t sent = 0;
        while (client.write("PING\n")) sent += 5;
        sent += 5;
        client.shutdown();  // flushes what was buffered, then half-closes
        EXPECT_EQ(client.pending_output(), 0u);
        reader->join();  // the server saw end of stream and closed
        EXPECT_EQ(echoed, sent);
        client.close();
      },
      30s);
}

TEST_F(TcpTest, HandlerGivenToTheConstructorServesEachConnection) {
  int served = 0;
  TCPServer server([&](std::shared_ptr<StreamConnection> connection) {
    ++served;
    connection->write("hello " +
                      std::static_pointer_cast<TCPConnection>(connection)->peername().host + "\n");
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    for (int i = 0; i < 3; ++i) {
      TCPClient client;
      client.connect(server.sockname());
      EXPECT_EQ(client.read_until("\n"), "hello 127.0.0.1\n");
      EXPECT_EQ(client.read_until("\n"), "");  // the handler returned: closed
    }
    server.close();
    serving->join();
  });
  EXPECT_EQ(served, 3);
}

TEST_F(TcpTest, AServerWithoutAHandlerClosesConnections) {
  TCPServer server;
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    TCPClient client;
    client.connect(server.sockname());
    EXPECT_EQ(client.read_bytes(10), "");
    server.close();
    serving->join();
  });
}

TEST_F(TcpTest, AddressesOfBothEnds) {
  std::shared_ptr<TCPConnection> accepted;
  TCPServer server([&](std::shared_ptr<StreamConnection> connection) {
    accepted = std::static_pointer_cast<TCPConnection>(connection);
    connection->read_bytes(1);
  });
  server.bind({"127.0.0.1", 0});
  Address where = server.sockname();
  EXPECT_EQ(where.host, "127.0.0.1");
  EXPECT_NE(where.port, 0);
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    TCPClient client;
    client.connect(where);
    EXPECT_EQ(client.peername(), where);
    while (!accepted) sleep(1ms);
    EXPECT_EQ(accepted->sockname(), where);
    EXPECT_EQ(accepted->peername(), client.sockname());
    EXPECT_EQ(server.connections().size(), 1u);
    EXPECT_EQ(server.connections()[0].get(), accepted.get());
    EXPECT_EQ(accepted->server(), &server);
    server.close();
    EXPECT_TRUE(accepted->closed());
    EXPECT_EQ(accepted->server(), nullptr);
    serving->join();
  });
}

TEST_F(TcpTest, NoDelayIsOnByDefault) {
  RunningEcho echo;
  bounded([&] {
    TCPClient client;
    client.connect(echo.address());
    int value = 0;
    socklen_t length = sizeof value;
    ASSERT_EQ(getsockopt(client.fileno(), IPPROTO_TCP, TCP_NODELAY, &value, &length), 0);
    EXPECT_NE(value, 0);
    client.set_nodelay(false);
    ASSERT_EQ(getsockopt(client.fileno(), IPPROTO_TCP, TCP_NODELAY, &value, &length), 0);
    EXPECT_EQ(value, 0);
  });
}

TEST_F(TcpTest, ConnectToAHostNameFromEtcHosts) {
  RunningEcho echo;
  bounded([&] {
    TCPClient client;
    client.connect({"localhost", echo.address().port});
    client.write("by name\n");
    EXPECT_EQ(client.read_until("\n"), "by name\n");
  });
}

TEST_F(TcpTest, ConnectFromASourceAddress) {
  RunningEcho echo;
  bounded([&] {
    TCPClient client;
    client.connect(echo.address(), Address{"127.0.0.1", 0});
    EXPECT_EQ(client.sockname().host, "127.0.0.1");
    client.write("x\n");
    EXPECT_EQ(client.read_until("\n"), "x\n");
  });
}

TEST_F(TcpTest, WritesBeforeConnectAreSentOnConnect) {
  RunningEcho echo;
  bounded([&] {
    TCPClient client;
    EXPECT_FALSE(client.connected());
    EXPECT_FALSE(client.write("early\n"));
    client.connect(echo.address());
    EXPECT_EQ(client.read_until("\n"), "early\n");
  });
}

TEST_F(TcpTest, ConnectingToAClosedPortIsRefused) {
  // A port that was just free: bind, read it, close.
  uint16_t port;
  {
    TCPServer probe;
    probe.bind({"127.0.0.1", 0});
    port = probe.sockname().port;
  }
  bounded([&] {
    TCPClient client;
    try {
      client.connect({"127.0.0.1", port});
      ADD_FAILURE() << "expected ECONNREFUSED";
    } catch (const TCPError& error) {
      EXPECT_EQ(error.code().value(), ECONNREFUSED);
      std::string what = error.what();
      EXPECT_NE(what.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << what;
    }
    EXPECT_FALSE(client.connected());
    EXPECT_FALSE(client.closed());
  });
}

TEST_F(TcpTest, BindingAnAddressInUseFails) {
  RunningEcho echo;
  bounded([&] {
    sleep(1ms);  // let it listen
    TCPServer second;
    try {
      second.bind(echo.address());
      ADD_FAILURE() << "expected EADDRINUSE";
    } catch (const TCPError& error) {
      EXPECT_EQ(error.code().value(), EADDRINUSE);
      EXPECT_NE(std::string(error.what()).find(echo.address().to_string()), std::string::npos)
          << error.what();
    }
  });
}

TEST_F(TcpTest, MalformedAddressesAreRejected) {
  for (const char* host : {"999.1.1.1", "1.2.3", "::g", "1.2.3.4.5"}) {
    TCPServer server;
    try {
      server.bind({host, 80});
      ADD_FAILURE() << "expected EINVAL for " << host;
    } catch (const TCPError& error) {
      EXPECT_EQ(error.code().value(), EINVAL) << host;
      EXPECT_NE(std::string(error.what()).find(host), std::string::npos) << error.what();
    }
    TCPClient client;
    EXPECT_THROW(client.connect({host, 80}), TCPError) << host;
  }
}

TEST_F(TcpTest, ConnectingTwiceOrAfterCloseFails) {
  RunningEcho echo;
  bounded([&] {
    TCPClient client;
    client.connect(echo.address());
    try {
      client.connect(echo.address());
      ADD_FAILURE();
    } catch (const TCPError& error) {
      EXPECT_EQ(error.code().value(), EISCONN);
    }
    client.close();
    EXPECT_THROW(client.connect(echo.address()), TCPError);
    EXPECT_THROW(client.sockname(), TCPError);
  });
}

TEST_F(TcpTest, ServeBeforeBindAndAfterCloseFail) {
  TCPServer server;
  EXPECT_THROW(server.serve(), TCPError);
  server.close();
  EXPECT_THROW(server.bind({"127.0.0.1", 0}), TCPError);
  EXPECT_THROW(server.serve(), TCPError);
}

TEST_F(TcpTest, ConnectHonoursTimeout) {
  // A listener whose backlog is full and that never accepts: further SYNs are
  // dropped, so the connect cannot complete.
  TCPServer full;
  full.bind({"127.0.0.1", 0});
  ASSERT_EQ(::listen(full.fileno(), 0), 0);
  Address target = full.sockname();
  std::vector<std::unique_ptr<TCPClient>> fillers;
  bool timed_out = false;
  bounded([&] {
    for (int i = 0; i < 8 && !timed_out; ++i) {
      auto client = std::make_unique<TCPClient>();
      try {
        Timeout deadline(200ms);
        client->connect(target);
        fillers.push_back(std::move(client));
      } catch (const Timeout&) {
        timed_out = true;
        EXPECT_FALSE(client->connected());
      }
    }
  });
  EXPECT_TRUE(timed_out);
}

TEST_F(TcpTest, ServerCloseClosesEveryConnectionAndWakesItsHandler) {
  int handler_errors = 0;
  int handler_returns = 0;
  int handlers_started = 0;
  TCPServer server([&](std::shared_ptr<StreamConnection> connection) {
    ++handlers_started;
    try {
      connection->read_until("\n");
    } catch (const TCPError& error) {
      EXPECT_EQ(error.code().value(), EBADF);
      ++handler_errors;
    }
    ++handler_returns;
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    std::vector<std::unique_ptr<TCPClient>> clients;
    for (int i = 0; i < 5; ++i) {
      clients.push_back(std::make_unique<TCPClient>());
      clients.back()->connect(server.sockname());
    }
    while (handlers_started < 5) sleep(1ms);
    server.close();
    EXPECT_TRUE(server.closed());
    EXPECT_EQ(server.connection_count(), 0u);
    serving->join();
    while (handler_returns < 5) sleep(1ms);
    for (auto& client : clients) EXPECT_EQ(client->read_bytes(10), "");
  });
  EXPECT_EQ(handler_errors, 5);
}

TEST_F(TcpTest, AThousandConcurrentClients) {
  RunningEcho echo(/*backlog=*/1024);
  constexpr int kClients = 1000;
  const int kRounds = kSanitized ? 2 : 5;
  int finished = 0;
  std::vector<std::shared_ptr<Task>> clients;
  Address target = echo.address();
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(spawn([&, i] {
      TCPClient client;
      client.connect(target);
      for (int round = 0; round < kRounds; ++round) {
        std::string line = "client " + std::to_string(i) + " round " + std::to_string(round) + "\n";
        client.write(line);
        EXPECT_EQ(client.read_until("\n"), line);
      }
      ++finished;
    }));
  }
  bounded(
      [&] {
        while (echo.server.connection_count() < kClients && finished < kClients) sleep(1ms);
        for (auto& client : clients) client->join();
      },
      120s);
  EXPECT_EQ(finished, kClients);
}

TEST_F(TcpTest, ShortConnectionsAreForgotten) {
  // The server answers one line and returns, closing first (so TIME_WAIT is on
  // its side and the client's ephemeral ports are not used up).
  TCPServer server([](std::shared_ptr<StreamConnection> connection) {
    connection->write(connection->read_until("\n"));
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(1024); });
  const int total = kSanitized ? 2000 : 20000;
  constexpr int kWorkers = 50;
  int completed = 0;
  size_t most_live = 0;
  Address target = server.sockname();
  std::vector<std::shared_ptr<Task>> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.push_back(spawn([&] {
      while (completed < total) {
        ++completed;
        TCPClient client;
        client.connect(target);
        client.write("x\n");
        EXPECT_EQ(client.read_until("\n"), "x\n");
        EXPECT_EQ(client.read_bytes(1), "");
        most_live = std::max(most_live, server.connection_count());
      }
    }));
  }
  bounded(
      [&] {
        for (auto& worker : workers) worker->join();
        while (server.connection_count() > 0) sleep(1ms);
      },
      120s);
  EXPECT_GE(completed, total);
  EXPECT_TRUE(server.connections().empty());
  EXPECT_LE(most_live, static_cast<size_t>(kWorkers) + 1);
  server.close();
  bounded([&] { serving->join(); });
}

}  // namespace
}  // namespace evergreen::io
