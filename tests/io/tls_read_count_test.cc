// A TLS stream reads its socket once per message in a request/response
// exchange, as a plain TCP stream does: when OpenSSL's read ahead took a
// whole record with a short read(2) (the socket had nothing more) and holds
// no further record bytes, the stream waits for the socket instead of issuing
// another read that could only say EAGAIN (TlsSession::drained()).
//
// The count is the kernel's: syscr in /proc/thread-self/io, the read-family
// system calls of this thread. Client and server run on this one thread, so a
// round trip costs one read on each end: two. With the wasted read on each end
// it would be four. The loop itself makes no read-family calls on a single
// thread (epoll_wait and io_uring_enter are not counted).
#include <fstream>
#include <memory>
#include <string>

#include "evergreen/io/tls.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"
#include "tests/io/tls_certs.h"

namespace evergreen::testing {
namespace {

using namespace std::chrono_literals;
using io::StreamConnection;
using io::TLSClient;
using io::TLSContext;
using io::TLSServer;

// This thread's read-family system calls so far.
long read_calls_of_this_thread() {
  std::ifstream io_file("/proc/thread-self/io");
  std::string key;
  long value = -1;
  while (io_file >> key >> value) {
    if (key == "syscr:") return value;
  }
  ADD_FAILURE() << "no syscr line in /proc/thread-self/io";
  return -1;
}

void echo(std::shared_ptr<StreamConnection> connection) {
  for (std::string data; !(data = connection->read_bytes(1 << 16)).empty();) {
    connection->write(data);
  }
}

class TlsReadCountTest : public IoTest {};

TEST_F(TlsReadCountTest, OneReadPerMessageOnEachEnd) {
  const TlsCerts& certs = TlsCerts::get();
  TLSServer server(TLSContext::server(certs.server.cert, certs.server.key), echo);
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  constexpr int kRoundTrips = 200;
  long reads = -1;
  bool finished = bounded([&] {
    TLSContext context = TLSContext::client();
    context.load_verify_locations(certs.ca.cert);
    TLSClient client;
    client.connect(server.sockname(), context);
    const std::string message(64, 'm');
    // A few exchanges first: the session ticket that follows the handshake
    // is read with the first reply, and is not what this test counts.
    auto round_trip = [&] {
      client.write(message);
      std::string reply;
      while (reply.size() < message.size())
        reply += client.read_bytes(message.size() - reply.size());
      ASSERT_EQ(reply, message);
    };
    for (int i = 0; i < 3; ++i) round_trip();
    long before = read_calls_of_this_thread();
    for (int i = 0; i < kRoundTrips; ++i) round_trip();
    reads = read_calls_of_this_thread() - before;
  });
  EXPECT_TRUE(finished);
  // Exactly two per round trip on a quiet machine; the slack covers a message
  // that the kernel splits (never seen on loopback), not a wasted read per
  // message, which would make it 4 * kRoundTrips.
  EXPECT_GE(reads, 2 * kRoundTrips);
  EXPECT_LE(reads, 2 * kRoundTrips + kRoundTrips / 4) << "read-family system calls";
  server.close();
  serving->join(10s);
}

// A record larger than the stream's read is handed out over several reads
// from OpenSSL's buffer; the socket is drained already, but the stream must
// not wait for it while OpenSSL still holds plaintext (it would wait forever).
TEST_F(TlsReadCountTest, PlaintextHeldByOpenSslIsReadWithoutWaiting) {
  const TlsCerts& certs = TlsCerts::get();
  TLSServer server(TLSContext::server(certs.server.cert, certs.server.key), echo);
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bool finished = bounded([&] {
    TLSContext context = TLSContext::client();
    context.load_verify_locations(certs.ca.cert);
    TLSClient client;
    client.connect(server.sockname(), context);
    const std::string message(12000, 'r');  // one record, echoed as one
    client.write(message);
    std::string reply;
    while (reply.size() < message.size()) reply += client.read_bytes(100);
    EXPECT_EQ(reply, message);
  });
  EXPECT_TRUE(finished);
  server.close();
  serving->join(10s);
}

}  // namespace
}  // namespace evergreen::testing
