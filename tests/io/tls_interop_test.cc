// Interoperability with another TLS implementation's programs: OpenSSL's own
// `openssl s_server` as the server for a TLSClient, and `openssl s_client` as
// the client of a TLSServer, each verifying the other's certificate.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "evergreen/io/tls.h"
#include "evergreen/loop/task.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"
#include "tests/io/tls_certs.h"

namespace evergreen::testing {
namespace {

using ::testing::HasSubstr;

// A child process running `/bin/sh -c command` (which should `exec` its last
// program, so that killing the child kills it); killed (SIGKILL) and reaped
// when destroyed, and killed with the test process (PR_SET_PDEATHSIG), so even
// a crashed test leaves none behind.
class Child {
 public:
  explicit Child(const std::string& command) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (pid_ < 0) ADD_FAILURE() << "cannot start: " << command;
  }
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

  // Waits (polling, cooperatively) for the child to exit; its exit status, or
  // -1 if it did not exit within `limit`.
  int wait(Duration limit) {
    Timeout deadline(limit);
    try {
      for (;;) {
        int status = 0;
        pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_) {
          pid_ = -1;
          return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        sleep(10ms);
      }
    } catch (const Timeout& fired) {
      if (!fired.is(deadline)) throw;
      return -1;
    }
  }

 private:
  pid_t pid_ = -1;
};

uint16_t free_port() {
  io::TCPServer probe;
  probe.bind({"127.0.0.1", 0});
  return probe.sockname().port;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class TlsInteropTest : public IoTest {};

TEST_F(TlsInteropTest, TlsClientFetchesFromOpensslSServer) {
  const TlsCerts& certs = TlsCerts::get();
  uint16_t port = free_port();
  Child server("exec openssl s_server -quiet -www -accept 127.0.0.1:" + std::to_string(port) +
               " -cert " + certs.server.cert + " -key " + certs.server.key +
               " -alpn h2,http/1.1 >/dev/null 2>&1");
  io::TLSContext context = io::TLSContext::client();
  context.load_verify_locations(certs.ca.cert);
  context.set_alpn({"http/1.1"});
  bounded(
      [&] {
        io::TLSClient client;
        // s_server needs a moment to listen: retry while it refuses.
        for (int attempt = 0;; ++attempt) {
          try {
            client.connect({"127.0.0.1", port}, context, "localhost");
            break;
          } catch (const io::TLSError& error) {
            if (error.code().value() != ECONNREFUSED || attempt > 500) throw;
            sleep(20ms);
          }
        }
        EXPECT_EQ(client.alpn_protocol(), "http/1.1");
        EXPECT_EQ(client.peer_certificate_subject(), "CN=localhost");
        client.write("GET / HTTP/1.0\r\n\r\n");
        std::string page;
        for (std::string data; !(data = client.read_bytes(4096)).empty();) page += data;
        EXPECT_THAT(page, HasSubstr("HTTP/1.0 200 ok"));
        EXPECT_THAT(page, HasSubstr("s_server"));
      },
      30s);
}

// Serves one echoed line per connection with our TLSServer, runs `openssl
// s_client <flags>` against it (verifying our chain and the name
// "localhost"), sends `line`, and returns everything s_client printed: the
// client exits when the server closes after its reply.
std::string s_client_output(const std::string& flags, const std::string& line) {
  const TlsCerts& certs = TlsCerts::get();
  io::TLSContext context = io::TLSContext::server(certs.server.cert, certs.server.key);
  io::TLSServer server(context, [](std::shared_ptr<io::StreamConnection> connection) {
    connection->write("echo: " + connection->read_until("\n"));
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  TempDir dir("tls_interop");
  std::string output = dir.file("s_client.out");
  std::string text;
  bounded(
      [&] {
        Child client(
            "(printf '" + line + "\\n'; sleep 3) | exec timeout -s KILL 30 openssl s_client " +
            flags + " -no_ign_eof -connect 127.0.0.1:" + std::to_string(server.sockname().port) +
            " -servername localhost " + "-verify_return_error -verify_hostname localhost -CAfile " +
            certs.ca.cert + " >" + output + " 2>/dev/null");
        EXPECT_EQ(client.wait(20s), 0);
        text = read_file(output);
      },
      30s);
  server.close();
  serving->join();
  return text;
}

TEST_F(TlsInteropTest, OpensslSClientTalksToTlsServer) {
  EXPECT_THAT(s_client_output("-quiet", "hello from s_client"),
              HasSubstr("echo: hello from s_client\n"));
}

// A TLS 1.3 server sends one session ticket per handshake (OpenSSL's own
// default is two): s_client reports each ticket that arrives. The reply comes
// after the tickets, so the output holds them all.
TEST_F(TlsInteropTest, TlsServerSendsOneSessionTicket) {
  std::string text = s_client_output("-tls1_3", "hello");
  EXPECT_THAT(text, HasSubstr("echo: hello\n"));
  size_t tickets = 0;
  for (size_t at = 0; (at = text.find("New Session Ticket arrived", at)) != std::string::npos;
       ++at) {
    ++tickets;
  }
  EXPECT_EQ(tickets, 1u);
}

}  // namespace
}  // namespace evergreen::testing
