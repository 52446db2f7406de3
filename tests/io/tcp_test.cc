// TCP over loopback: the seed's tests (read, read error, shutdown), servers
// running connections in tasks, errors a user meets, and load: 1,000
// concurrent clients, and 20,000 short connections that must not leak.
#include "evergreen/io/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "evergreen/io/dns.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/io/echo_server.h"
#include "tests/io/io_fixture.h"

using namespace std::chrono_literals;

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using evergreen::testing::kSanitized;
using TcpTest = evergreen::testing::IoTest;

using evergreen::testing::RunningEcho;

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

TEST_F(TcpTest, AnyStreamConnectionTellsBothEnds) {
  std::optional<Address> local;
  std::optional<Address> remote;
  TCPServer server([&](std::shared_ptr<StreamConnection> connection) {
    // No cast to TCPConnection needed.
    local = connection->sockname();
    remote = connection->peername();
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    TCPClient client;
    client.connect(server.sockname());
    while (!remote) sleep(1ms);
    EXPECT_EQ(local, std::optional<Address>(server.sockname()));
    EXPECT_EQ(remote, std::optional<Address>(client.sockname()));
    server.close();
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

TEST_F(TcpTest, ServerCloseWakesABlockedReadWithAClosedError) {
  int closed_errors = 0;
  bool started = false;
  TCPServer server([&](std::shared_ptr<StreamConnection> connection) {
    started = true;
    try {
      connection->read_until("\n");
      ADD_FAILURE() << "expected a TCPError";
    } catch (const TCPError& error) {
      std::string what = error.what();
      EXPECT_TRUE(error.closed()) << what;
      EXPECT_NE(what.find("closed"), std::string::npos) << what;
      EXPECT_EQ(what.find("Bad file descriptor"), std::string::npos) << what;
      ++closed_errors;
    }
    try {
      connection->peername();  // through the base class
      ADD_FAILURE() << "expected a TCPError";
    } catch (const TCPError& error) {
      EXPECT_TRUE(error.closed()) << error.what();
    }
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    TCPClient client;
    client.connect(server.sockname());
    while (!started) sleep(1ms);
    server.close();
    serving->join();
    while (closed_errors == 0) sleep(1ms);
    // The server itself says so too.
    try {
      server.serve();
      server.bind({"127.0.0.1", 0});
      ADD_FAILURE() << "expected a TCPError";
    } catch (const TCPError& error) {
      EXPECT_TRUE(error.closed()) << error.what();
    }
  });
  EXPECT_EQ(closed_errors, 1);
}

TEST_F(TcpTest, AResetFromThePeerIsNotAClosedError) {
  std::optional<bool> closed_flag;
  int code = 0;
  TCPServer server([&](std::shared_ptr<StreamConnection> connection) {
    try {
      connection->read_until("\n");
      ADD_FAILURE() << "expected a TCPError";
    } catch (const TCPError& error) {
      code = error.code().value();
      closed_flag = error.closed();
    }
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    TCPClient client;
    client.connect(server.sockname());
    client.write("no newline");
    sleep(5ms);
    linger reset{.l_onoff = 1, .l_linger = 0};  // close() sends RST
    ASSERT_EQ(setsockopt(client.fileno(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
    client.close();
    while (!closed_flag) sleep(1ms);
    server.close();
    serving->join();
  });
  EXPECT_EQ(code, ECONNRESET);
  EXPECT_EQ(closed_flag, std::optional<bool>(false));
}

// A server whose handlers read everything a client sends, until it shuts
// down its side, and keep it.
struct RunningSink {
  RunningSink()
      : server([this](std::shared_ptr<StreamConnection> connection) {
          std::string all;
          for (;;) {
            std::string piece = connection->read_bytes(1 << 16);
            if (piece.empty()) break;
            all += piece;
          }
          received.push_back(std::move(all));
        }) {
    server.bind({"127.0.0.1", 0});
    serving = spawn([this] { server.serve(); });
  }
  ~RunningSink() {
    server.close();
    serving->join(5s);
  }
  TCPServer server;
  std::shared_ptr<Task> serving;
  std::vector<std::string> received;
};

// `size` bytes in which every position has its own value (modulo a prime).
std::string numbered_bytes(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i % 251);
  return data;
}

// Reads until end of stream or an error; returns how many bytes came.
size_t read_until_end_or_error(BaseStream& stream, int* error = nullptr) {
  size_t received = 0;
  try {
    for (;;) {
      std::string piece = stream.read_bytes(1 << 16);
      if (piece.empty()) return received;
      received += piece.size();
    }
  } catch (const StreamError& failure) {
    if (error != nullptr) *error = failure.code().value();
  }
  return received;
}

TEST_F(TcpTest, RetriedTimedOutWritesToAPeerThatNeverReadsStayWithinTheBound) {
  // The report: `{ Timeout t(2ms); c.write(1 MiB); }` in a loop against
  // a server that never reads left hundreds of MiB buffered.
  bool stop = false;
  TCPServer server([&](std::shared_ptr<StreamConnection>) {
    while (!stop) sleep(1ms);
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  const std::string chunk(1 << 20, 'm');
  bounded(
      [&] {
        TCPClient client;
        client.connect(server.sockname());
        size_t limit = 2 * client.write_high_water();
        for (int i = 0; i < 40; ++i) {
          try {
            Timeout deadline(2ms);
            client.write(chunk);
          } catch (const Timeout&) {
          }
          ASSERT_LE(client.pending_output(), limit) << "after write " << i;
        }
        client.close();
      },
      30s);
  stop = true;
  server.close();
  bounded([&] { serving->join(); });
}

TEST_F(TcpTest, WritesBeforeConnectAreBoundedAndWaitForTheConnection) {
  RunningSink sink;
  constexpr size_t kHighWater = 16 * 1024;
  const std::string payload = numbered_bytes(256 * 1024);
  TCPClient client;
  client.set_write_high_water(kHighWater);
  size_t taken = 0;
  auto writer = spawn([&] { client.write(payload, taken); });
  bounded([&] {
    sleep(5ms);
    // Unconnected, the client buffers up to the mark and the writer waits.
    EXPECT_TRUE(writer->is_alive());
    EXPECT_EQ(taken, kHighWater);
    EXPECT_EQ(client.pending_output(), kHighWater);
    client.connect(sink.server.sockname());
    writer->join();
    EXPECT_EQ(taken, payload.size());
    client.shutdown();
    while (sink.received.empty()) sleep(1ms);
    EXPECT_TRUE(sink.received[0] == payload) << sink.received[0].size() << " bytes";
  });
}

TEST_F(TcpTest, AHandlerThatReturnsGetsOnlyTheLingerTimeToDeliverItsOutput) {
  // A handler writes more than the client reads and returns; the client never
  // reads. The connection (and its buffer) must not outlive the linger time.
  constexpr size_t kReply = 4 << 20;
  bool returned = false;
  TimePoint returned_at;
  TCPServer server([&](std::shared_ptr<StreamConnection> connection) {
    int small = 64 * 1024;
    setsockopt(connection->fileno(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    connection->set_write_high_water(kReply);  // so that the write returns
    connection->write(std::string(kReply, 'L'));
    EXPECT_GT(connection->pending_output(), 0u);
    returned_at = EventLoop::current().time();
    returned = true;
  });
  server.set_linger(100ms);
  EXPECT_EQ(server.linger(), std::optional<Duration>(100ms));
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    TCPClient client;
    client.connect(server.sockname());
    int small = 64 * 1024;
    setsockopt(client.fileno(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    while (!returned) sleep(1ms);
    while (server.connection_count() > 0) sleep(1ms);
    EXPECT_GE(EventLoop::current().time() - returned_at, 100ms);
    // The client gets what had reached it, then the reset.
    int error = 0;
    EXPECT_LT(read_until_end_or_error(client, &error), kReply);
    EXPECT_EQ(error, ECONNRESET);
    server.close();
    serving->join();
  });
}

TEST_F(TcpTest, AClientThatReadsWithinTheLingerTimeGetsTheWholeReply) {
  constexpr size_t kReply = 2 << 20;
  TCPServer server([&](std::shared_ptr<StreamConnection> connection) {
    connection->set_write_high_water(kReply);
    connection->write(numbered_bytes(kReply));
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    TCPClient client;
    client.connect(server.sockname());
    sleep(20ms);  // well within the default linger time
    std::string received;
    for (;;) {
      std::string piece = client.read_bytes(1 << 16);
      if (piece.empty()) break;
      received += piece;
    }
    EXPECT_TRUE(received == numbered_bytes(kReply)) << received.size() << " bytes";
    server.close();
    serving->join();
  });
}

TEST_F(TcpTest, AConnectionKeptByItsHandlerOutlivesTheLingerTime) {
  std::shared_ptr<StreamConnection> kept;
  TCPServer server([&](std::shared_ptr<StreamConnection> connection) {
    connection->set_write_high_water(4 << 20);
    connection->write(std::string(4 << 20, 'k'));
    kept = connection;
  });
  server.set_linger(10ms);
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bounded([&] {
    TCPClient client;
    client.connect(server.sockname());
    while (!kept) sleep(1ms);
    sleep(100ms);
    EXPECT_FALSE(kept->closed());
    EXPECT_EQ(server.connection_count(), 1u);
    // Its owner decides: it still delivers everything, then closes.
    auto owner = spawn([&] {
      kept->flush();
      kept->close();
    });
    EXPECT_EQ(read_until_end_or_error(client), size_t{4 << 20});
    owner->join();
    server.close();
    serving->join();
  });
}

TEST_F(TcpTest, ANegativeLingerTimeIsRejected) {
  TCPServer server;
  EXPECT_EQ(server.linger(), std::optional<Duration>(StreamServer::kDefaultLinger));
  try {
    server.set_linger(-1ms);
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("TCP server"), std::string::npos) << error.what();
  }
  server.set_linger(std::nullopt);  // wait for as long as the client takes
  EXPECT_EQ(server.linger(), std::nullopt);
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
