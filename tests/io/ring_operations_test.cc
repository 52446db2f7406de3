// On the io_uring backend streams, servers, TCP clients and UDP endpoints
// wait in the ring: a receive, send, accept, connect, recvmsg or sendmsg is an
// io_uring operation (io/internal/ring_call.h). These tests run on whichever
// backend EVERGREEN_BACKEND names (CI runs both): the path checks expect ring
// operations on io_uring and none on epoll, and the cancellation cases (close
// during a pending receive, kill during a pending send, Timeout during accept
// and connect, destruction with a receive in flight) must behave the same on
// both - no completion may touch a freed buffer (ASan) or a reused fd.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "evergreen/io/tcp.h"
#include "evergreen/io/udp.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/sync/event.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"
#include "tests/io/tcp_pair.h"

namespace evergreen::io {
namespace {

using evergreen::testing::bounded;
using evergreen::testing::TcpPair;
using evergreen::testing::count_open_fds;
using Kind = evergreen::internal::KernelOperation::Kind;
using RingOperationsTest = evergreen::testing::IoTest;
using namespace std::chrono_literals;

bool on_io_uring() { return EventLoop::current().backend() == Backend::kIoUring; }

uint64_t submitted(Kind kind) {
  return evergreen::internal::Scheduler::current().operations_submitted(kind);
}

// The operations of `kind` a block submitted: some on io_uring, none on epoll.
void expect_ring_path(Kind kind, uint64_t before, const char* what) {
  uint64_t count = submitted(kind) - before;
  if (on_io_uring()) {
    EXPECT_GT(count, 0u) << what << " did not go through the ring";
  } else {
    EXPECT_EQ(count, 0u) << what << " submitted ring operations on epoll";
  }
}

TEST_F(RingOperationsTest, EachSocketCallTakesTheRingOnIoUringOnly) {
  uint64_t accepts = submitted(Kind::kAccept);
  uint64_t connects = submitted(Kind::kConnect);
  uint64_t receives = submitted(Kind::kRecv);
  ASSERT_TRUE(bounded([&] {
    TCPServer server([](std::shared_ptr<StreamConnection> connection) {
      // Waits for the line: a receive with nothing queued yet.
      connection->write(connection->read_until("\n"));
    });
    server.bind({"127.0.0.1", 0});
    auto serving = spawn([&] { server.serve(); });
    TCPClient client;
    client.connect(server.sockname());
    sleep(20ms);  // the server's read is waiting by now
    client.write("ping\n");
    EXPECT_EQ(client.read_until("\n"), "ping\n");
    server.close();
    EXPECT_TRUE(serving->join(5s));
  }));
  expect_ring_path(Kind::kAccept, accepts, "accept");
  expect_ring_path(Kind::kConnect, connects, "connect");
  expect_ring_path(Kind::kRecv, receives, "a receive");
}

TEST_F(RingOperationsTest, CloseDuringAPendingReceiveWakesTheReaderAndClosesTheSocket) {
  ASSERT_TRUE(bounded([&] {
    TcpPair pair;
    uint64_t receives = submitted(Kind::kRecv);
    bool raised_closed = false;
    auto reader = spawn([&] {
      try {
        pair.client->read_until("\n");
      } catch (const TCPError& error) {
        raised_closed = error.closed();
      }
    });
    sleep(20ms);  // the reader waits in its receive
    expect_ring_path(Kind::kRecv, receives, "the pending receive");
    pair.client->close();
    EXPECT_TRUE(reader->join(5s));
    EXPECT_TRUE(raised_closed);
    // The socket is really closed (the cancelled receive let go of it): the
    // peer reads end of stream; data it sends now lands nowhere.
    EXPECT_EQ(pair.accepted->read_bytes(10), "");
    pair.server.close();
  }));
}

TEST_F(RingOperationsTest, DestroyingAStreamWithAReceiveInFlightLeavesNothingBehind) {
  EventLoop::current();  // the loop's own fds are not the test's
  int fds_before = count_open_fds();
  ASSERT_TRUE(bounded([&] {
    TCPServer server([](std::shared_ptr<StreamConnection> connection) {
      // Keep sending after the client is gone: the kernel must not deliver
      // into the destroyed client's buffer (ASan would see it).
      try {
        for (int i = 0; i < 50; ++i) {
          connection->write(std::string(4096, 'd'));
          sleep(1ms);
        }
      } catch (const TCPError&) {
      }
    });
    server.bind({"127.0.0.1", 0});
    auto serving = spawn([&] { server.serve(); });
    auto client = std::make_unique<TCPClient>();
    client->connect(server.sockname());
    bool destroyed_error = false;
    auto reader = spawn([&] {
      try {
        for (;;) client->read_until("never");
      } catch (const TCPError&) {
        destroyed_error = true;
      }
    });
    sleep(5ms);
    client.reset();
    EXPECT_TRUE(reader->join(5s));
    EXPECT_TRUE(destroyed_error);
    sleep(60ms);
    server.close();
    EXPECT_TRUE(serving->join(5s));
  }));
  EXPECT_EQ(count_open_fds(), fds_before);
}

TEST_F(RingOperationsTest, KillDuringAPendingSendKeepsExactlyWhatWasTaken) {
  ASSERT_TRUE(bounded([&] {
    TcpPair pair;
    // A small mark: the writer waits for room with a send in flight.
    pair.client->set_write_high_water(64 * 1024);
    std::string data(16 << 20, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i % 251);
    uint64_t sends = submitted(Kind::kSend);
    size_t accepted = 0;
    bool killed = false;
    auto writer = spawn([&] {
      try {
        pair.client->write(data, accepted);
      } catch (const TaskExit&) {
        killed = true;
        throw;
      }
    });
    sleep(50ms);  // the peer does not read: its buffer and ours fill
    expect_ring_path(Kind::kSend, sends, "the pending send");
    ASSERT_LT(accepted, data.size());
    writer->kill();
    EXPECT_TRUE(writer->join(5s));
    EXPECT_TRUE(killed);
    // The peer gets exactly the prefix the stream took, in order.
    size_t taken = accepted;
    std::string received;
    auto reader = spawn([&] {
      for (;;) {
        std::string piece = pair.accepted->read_bytes(1 << 20);
        if (piece.empty()) break;
        received += piece;
      }
    });
    pair.client->flush();
    pair.client->shutdown();
    EXPECT_TRUE(reader->join(5s));
    EXPECT_EQ(received.size(), taken);
    EXPECT_TRUE(received == data.substr(0, taken)) << "the received bytes differ";
    pair.server.close();
  }));
}

// A loop callback (here add_reader()'s; a signal handler closing a server is
// the same) that closes a stream whose receive completed in the same turn:
// close() waits for that completion, which the loop has already taken off the
// ring but not yet delivered. It must find it there, not wait in the kernel
// for good (the test would then hang until Bazel's timeout).
TEST_F(RingOperationsTest, ACallbackClosingAStreamWhoseReceiveJustCompletedDoesNotHang) {
  ASSERT_TRUE(bounded([&] {
    TcpPair pair;
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    bool reader_done = false;
    auto reader = spawn([&] {
      try {
        pair.client->read_until("\n");
      } catch (const TCPError&) {
      }
      reader_done = true;
    });
    sleep(20ms);  // the reader waits in its receive
    EventLoop::current().add_reader(pipe_fds[0], [&] {
      EventLoop::current().remove_reader(pipe_fds[0]);
      pair.client->close();
    });
    // Both ready before the loop looks again: the pipe's poll and the
    // receive complete in the same turn.
    ASSERT_EQ(::write(pipe_fds[1], "x", 1), 1);
    ASSERT_EQ(::send(pair.accepted->fileno(), "line\n", 5, 0), 5);
    EXPECT_TRUE(reader->join(5s));
    EXPECT_TRUE(reader_done);
    EXPECT_TRUE(pair.client->closed());
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    pair.server.close();
  }));
}

TEST_F(RingOperationsTest, TimeoutDuringAcceptEndsServeAndTheServerServesAgain) {
  ASSERT_TRUE(bounded([&] {
    TCPServer server([](std::shared_ptr<StreamConnection> connection) {
      connection->write("hi\n");
    });
    server.bind({"127.0.0.1", 0});
    uint64_t accepts = submitted(Kind::kAccept);
    bool timed_out = false;
    auto first = spawn([&] {
      Timeout deadline(30ms);
      try {
        server.serve();
      } catch (const Timeout& fired) {
        timed_out = fired.is(deadline);
      }
    });
    EXPECT_TRUE(first->join(5s));
    EXPECT_TRUE(timed_out);
    expect_ring_path(Kind::kAccept, accepts, "the pending accept");
    auto serving = spawn([&] { server.serve(); });
    TCPClient client;
    client.connect(server.sockname());
    EXPECT_EQ(client.read_until("\n"), "hi\n");
    server.close();
    EXPECT_TRUE(serving->join(5s));
  }));
}

TEST_F(RingOperationsTest, TimeoutDuringConnectToAFullBacklogClosesTheSocket) {
  // A listener that never accepts, with the smallest backlog, filled by raw
  // connections: Linux then drops further SYNs, so a connect stays pending.
  EventLoop::current();  // the loop's own fds are not the test's
  int fds_before = count_open_fds();
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    fillers.push_back(fd);
  }
  ::usleep(50'000);  // let the handshakes that can complete do so
  uint64_t connects = submitted(Kind::kConnect);
  bool timed_out = false;
  bool connected = false;
  ASSERT_TRUE(bounded([&] {
    TCPClient client;
    Timeout deadline(300ms);
    try {
      client.connect({"127.0.0.1", ntohs(address.sin_port)});
      connected = true;
    } catch (const Timeout& fired) {
      timed_out = fired.is(deadline);
    }
  }));
  for (int fd : fillers) ::close(fd);
  ::close(listener);
  if (connected) GTEST_SKIP() << "this kernel completed a connect to a full backlog";
  EXPECT_TRUE(timed_out);
  expect_ring_path(Kind::kConnect, connects, "the pending connect");
  // The cancelled connect's socket is closed, not leaked.
  EXPECT_EQ(count_open_fds(), fds_before);
}

TEST_F(RingOperationsTest, UdpSendAndReceiveAndCloseDuringAPendingReceive) {
  ASSERT_TRUE(bounded([&] {
    UDPEndpoint receiver;
    receiver.bind({"127.0.0.1", 0});
    UDPEndpoint sender;
    uint64_t receives = submitted(Kind::kRecvMsg);
    std::pair<std::string, Address> got;
    auto reading = spawn([&] { got = receiver.receive(); });
    sleep(20ms);  // the receive waits
    sender.send("datagram", receiver.sockname());
    sender.flush();
    EXPECT_TRUE(reading->join(5s));
    EXPECT_EQ(got.first, "datagram");
    EXPECT_EQ(got.second.port, sender.sockname().port);
    expect_ring_path(Kind::kRecvMsg, receives, "the pending datagram receive");

    // A receive pending when the endpoint closes ends with the closed error.
    bool raised = false;
    auto waiting = spawn([&] {
      try {
        receiver.receive();
      } catch (const UDPError&) {
        raised = true;
      }
    });
    sleep(20ms);
    receiver.close();
    EXPECT_TRUE(waiting->join(5s));
    EXPECT_TRUE(raised);
  }));
}

}  // namespace
}  // namespace evergreen::io
