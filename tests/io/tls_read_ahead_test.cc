// TLS reads take whatever the socket holds in one read(2) (OpenSSL's read
// ahead), not one record header and then its body: two records queued on the
// socket are both taken by the read that returns the first, and the second
// is then served from the session's buffer without the stream waiting for
// the socket again (it is empty by then, so a wait would never end).
#include <sys/ioctl.h>

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

// A TLS 1.3 record of a 4-byte message: 5-byte header, the message, its
// 1-byte content type and the 16-byte AEAD tag (every TLS 1.3 suite).
constexpr int kRecordOfFourBytes = 5 + 4 + 1 + 16;

int queued_on(int fd) {
  int queued = -1;
  EXPECT_EQ(::ioctl(fd, FIONREAD, &queued), 0);
  return queued;
}

class TlsReadAheadTest : public IoTest {};

TEST_F(TlsReadAheadTest, OneReadTakesEveryQueuedRecord) {
  const TlsCerts& certs = TlsCerts::get();
  // On "go", two messages as two records (a flush between them).
  TLSServer server(TLSContext::server(certs.server.cert, certs.server.key),
                   [](std::shared_ptr<StreamConnection> connection) {
                     EXPECT_EQ(connection->read_until("\n"), "ping\n");
                     connection->write("pong\n");
                     connection->flush();
                     EXPECT_EQ(connection->read_until("\n"), "go\n");
                     connection->write("one\n");
                     connection->flush();
                     connection->write("two\n");
                     connection->flush();
                     connection->read_bytes(1);  // until the client closes
                   });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  bool finished = bounded([&] {
    TLSContext context = TLSContext::client();
    context.load_verify_locations(certs.ca.cert);
    TLSClient client;
    client.connect(server.sockname(), context);
    // One exchange first, so that the session tickets sent after the
    // handshake are read and the socket holds only what comes next.
    client.write("ping\n");
    EXPECT_EQ(client.read_until("\n"), "pong\n");
    client.write("go\n");
    while (queued_on(client.fileno()) < 2 * kRecordOfFourBytes) sleep(1ms);
    EXPECT_EQ(queued_on(client.fileno()), 2 * kRecordOfFourBytes);
    EXPECT_EQ(client.read_bytes(64), "one\n");
    // Without read ahead the second record would still be on the socket.
    EXPECT_EQ(queued_on(client.fileno()), 0);
    EXPECT_EQ(client.read_bytes(64), "two\n");
  });
  EXPECT_TRUE(finished);
  server.close();
  serving->join(10s);
}

}  // namespace
}  // namespace evergreen::testing
