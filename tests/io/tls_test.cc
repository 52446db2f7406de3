// TLS over loopback: round trips, verification, handshake failures and
// timeouts, cancellation, shutdown, ALPN, SNI and client certificates. The
// certificates are made by the test itself (tls_certs.h).
#include "evergreen/io/tls.h"

#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "evergreen/io/tcp.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/sync/event.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/io/echo_server.h"
#include "tests/io/io_fixture.h"
#include "tests/io/tls_certs.h"

namespace evergreen::testing {
namespace {

using io::Address;
using io::StreamConnection;
using io::TLSClient;
using io::TLSConnection;
using io::TLSContext;
using io::TLSError;
using io::TLSServer;
using ::testing::HasSubstr;

const TlsCerts& certs() { return TlsCerts::get(); }

TLSContext trusting_client() {
  TLSContext context = TLSContext::client();
  context.load_verify_locations(certs().ca.cert);
  return context;
}

TLSContext server_context(const TlsCerts::Pair& pair) {
  return TLSContext::server(pair.cert, pair.key);
}

// A TLSServer serving on an ephemeral loopback port for the test's lifetime.
struct RunningTls {
  RunningTls(TLSContext context, io::StreamServer::ConnectionHandler handler)
      : server(std::move(context), std::move(handler)) {
    server.bind({"127.0.0.1", 0});
    serving = spawn([this] { server.serve(); });
  }
  ~RunningTls() {
    server.close();
    serving->join(std::chrono::seconds(10));
  }
  Address address() const { return server.sockname(); }
  TLSServer server;
  std::shared_ptr<Task> serving;
};

void echo(std::shared_ptr<StreamConnection> connection) { echo_lines(*connection); }

// The message of the TLSError `fn` throws ("" and a failure when none).
template <class F>
std::string tls_error_of(F&& fn) {
  try {
    fn();
  } catch (const TLSError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no TLSError";
  return "";
}

class TlsTest : public IoTest {};

TEST_F(TlsTest, SmallRoundTripVerifiesTheIpAndTheHostName) {
  RunningTls running(server_context(certs().server), echo);
  bounded([&] {
    // By IP literal: checked against the IP SAN.
    TLSClient client;
    client.connect(running.address(), trusting_client());
    EXPECT_EQ(client.peer_certificate_subject(), "CN=localhost");
    EXPECT_EQ(client.peername(), running.address());
    EXPECT_EQ(client.sockname().host, "127.0.0.1");
    EXPECT_TRUE(client.write("hello\n"));
    EXPECT_EQ(client.read_until("\n"), "hello\n");
    // By name: checked against the DNS SAN.
    TLSClient named;
    named.connect(running.address(), trusting_client(), "localhost");
    named.write("world\n");
    EXPECT_EQ(named.read_until("\n"), "world\n");
  });
}

TEST_F(TlsTest, OutputWrittenBeforeConnectIsSentEncryptedAfterTheHandshake) {
  RunningTls running(server_context(certs().server), echo);
  bounded([&] {
    TLSClient client;
    EXPECT_FALSE(client.write("early\n"));  // buffered until connected
    EXPECT_EQ(client.pending_output(), 6u);
    client.connect(running.address(), trusting_client());
    EXPECT_EQ(client.read_until("\n"), "early\n");
    EXPECT_EQ(client.alpn_protocol(), "");
    EXPECT_THROW(client.connect(running.address(), trusting_client()), TLSError);  // EISCONN
  });
}

TEST_F(TlsTest, TenMegabytesRoundTrip) {
  RunningTls running(server_context(certs().server), [](std::shared_ptr<StreamConnection> c) {
    for (std::string data; !(data = c->read_bytes(1 << 16)).empty();) c->write(data);
  });
  std::string payload(10 << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7 + i / 4099);
  bounded(
      [&] {
        TLSClient client;
        client.connect(running.address(), trusting_client());
        auto writer = spawn([&] {
          client.write(payload);
          client.shutdown();
        });
        std::string echoed;
        for (std::string data; !(data = client.read_bytes(1 << 16)).empty();) echoed += data;
        writer->join();
        EXPECT_EQ(echoed.size(), payload.size());
        EXPECT_TRUE(echoed == payload);
        // The server's close_notify ended the stream: reads stay at "".
        EXPECT_EQ(client.read_bytes(10), "");
      },
      60s);
}

TEST_F(TlsTest, ReadUntilFindsDelimitersAcrossRecords) {
  RunningTls running(server_context(certs().server), [](std::shared_ptr<StreamConnection> c) {
    for (const char* piece : {"abc", "def\r", "\nghi", "<END", ">tail"}) {
      c->write(piece);  // one record each
      c->flush();
      sleep(5ms);
    }
  });
  bounded([&] {
    TLSClient client;
    client.connect(running.address(), trusting_client());
    EXPECT_EQ(client.read_until("\r\n"), "abcdef\r\n");
    EXPECT_EQ(client.read_until_regex("<[A-Z]+>"), "ghi<END>");
    EXPECT_EQ(client.read_until("\n"), "tail");  // the server closed: what is left
    EXPECT_EQ(client.read_until("\n"), "");
  });
}

TEST_F(TlsTest, AnUnknownCaFailsVerificationWithTheReason) {
  RunningTls running(server_context(certs().server), echo);
  bounded([&] {
    TLSClient client;
    std::string message =
        tls_error_of([&] { client.connect(running.address(), TLSContext::client()); });
    EXPECT_THAT(message, HasSubstr("certificate verify failed"));
    EXPECT_THAT(message, HasSubstr("unable to get local issuer certificate"));
    EXPECT_THAT(message, HasSubstr(running.address().to_string()));
    EXPECT_FALSE(client.connected());
  });
}

TEST_F(TlsTest, AWrongHostFailsVerification) {
  RunningTls running(server_context(certs().wrong_host), echo);
  bounded([&] {
    TLSClient by_name;
    std::string message = tls_error_of(
        [&] { by_name.connect(running.address(), trusting_client(), "localhost"); });
    EXPECT_THAT(message, HasSubstr("certificate verify failed"));
    EXPECT_THAT(message, HasSubstr("hostname mismatch"));
    TLSClient by_ip;
    message = tls_error_of([&] { by_ip.connect(running.address(), trusting_client()); });
    EXPECT_THAT(message, HasSubstr("IP address mismatch"));
    // The name the certificate does carry verifies.
    TLSClient right;
    right.connect(running.address(), trusting_client(), "other.example");
    right.write("ok\n");
    EXPECT_EQ(right.read_until("\n"), "ok\n");
  });
}

TEST_F(TlsTest, AnExpiredCertificateFailsVerification) {
  RunningTls running(server_context(certs().expired), echo);
  bounded([&] {
    TLSClient client;
    std::string message =
        tls_error_of([&] { client.connect(running.address(), trusting_client(), "localhost"); });
    EXPECT_THAT(message, HasSubstr("certificate verify failed"));
    EXPECT_THAT(message, HasSubstr("certificate has expired"));
  });
}

TEST_F(TlsTest, VerificationOffIsAnExplicitChoice) {
  RunningTls running(server_context(certs().wrong_host), echo);
  bounded([&] {
    TLSContext context = TLSContext::client();
    EXPECT_TRUE(context.verify_peer());
    context.set_verify_peer(false);
    TLSClient client;
    client.connect(running.address(), context, "localhost");
    client.write("unverified\n");
    EXPECT_EQ(client.read_until("\n"), "unverified\n");
    EXPECT_EQ(client.peer_certificate_subject(), "CN=other.example");
  });
}

TEST_F(TlsTest, APlaintextClientIsDroppedWhileAnotherIsServed) {
  int handled = 0;
  RunningTls running(server_context(certs().server), [&](std::shared_ptr<StreamConnection> c) {
    ++handled;
    echo(std::move(c));
  });
  bounded([&] {
    io::TCPClient plain;
    plain.connect(running.address());
    TLSClient secure;
    secure.connect(running.address(), trusting_client());
    plain.write("GET / HTTP/1.0\r\n\r\n");
    // The server answers garbage with an alert and drops the connection.
    std::string answer;
    try {
      for (std::string data; !(data = plain.read_bytes(1024)).empty();) answer += data;
    } catch (const io::TCPError&) {
      // or resets it
    }
    EXPECT_EQ(answer.find("HTTP"), std::string::npos);
    secure.write("still here\n");
    EXPECT_EQ(secure.read_until("\n"), "still here\n");
    EXPECT_EQ(handled, 1);
  });
}

TEST_F(TlsTest, ATlsClientAgainstAPlaintextServerSaysWrongVersionNumber) {
  io::TCPServer plain([](std::shared_ptr<StreamConnection> c) {
    c->read_bytes(1);
    c->write("HTTP/1.0 400 Bad Request\r\n\r\n");
  });
  plain.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { plain.serve(); });
  bounded([&] {
    TLSClient client;
    std::string message =
        tls_error_of([&] { client.connect(plain.sockname(), trusting_client()); });
    EXPECT_THAT(message, HasSubstr("wrong version number"));
    plain.close();
    serving->join();
  });
}

TEST_F(TlsTest, AClientThatNeverHandshakesIsDroppedAfterTheHandshakeTimeout) {
  RunningTls running(server_context(certs().server), echo);
  EXPECT_EQ(running.server.handshake_timeout(), std::chrono::seconds(10));
  running.server.set_handshake_timeout(200ms);
  EXPECT_THROW(running.server.set_handshake_timeout(0s), std::invalid_argument);
  bounded([&] {
    io::TCPClient silent;
    silent.connect(running.address());
    // The server gives up and closes: the silent client reads end of stream.
    EXPECT_EQ(silent.read_bytes(10), "");
    EXPECT_EQ(running.server.connection_count(), 0u);
    // Others are served as before.
    TLSClient client;
    client.connect(running.address(), trusting_client());
    client.write("x\n");
    EXPECT_EQ(client.read_until("\n"), "x\n");
  });
}

// A TCP server that accepts and never says anything: a handshake with it
// never ends.
struct SilentServer {
  SilentServer() : server([this](std::shared_ptr<StreamConnection> c) {
                     held.push_back(c);
                     c->read_bytes(1 << 16);
                     c->read_bytes(1);
                   }) {
    server.bind({"127.0.0.1", 0});
    serving = spawn([this] { server.serve(); });
  }
  ~SilentServer() {
    server.close();
    serving->join(std::chrono::seconds(5));
  }
  std::vector<std::shared_ptr<StreamConnection>> held;
  io::TCPServer server;
  std::shared_ptr<Task> serving;
};

TEST_F(TlsTest, TimeoutInterruptsTheHandshake) {
  SilentServer silent;
  bounded([&] {
    TLSClient client;
    Timeout deadline(100ms);
    try {
      client.connect(silent.server.sockname(), trusting_client());
      ADD_FAILURE() << "the handshake finished";
    } catch (const Timeout& fired) {
      EXPECT_TRUE(fired.is(deadline));
    }
    EXPECT_FALSE(client.connected());
    EXPECT_FALSE(client.closed());
  });
}

TEST_F(TlsTest, KillInterruptsTheHandshake) {
  SilentServer silent;
  bounded([&] {
    TLSClient client;
    bool finished = false;
    auto connecting = spawn([&] {
      client.connect(silent.server.sockname(), trusting_client());
      finished = true;
    });
    sleep(50ms);
    connecting->kill();
    connecting->join();
    EXPECT_FALSE(finished);
    EXPECT_FALSE(client.connected());
  });
}

TEST_F(TlsTest, CloseWakesAHandshake) {
  SilentServer silent;
  bounded([&] {
    TLSClient client;
    std::string message;
    auto connecting = spawn([&] {
      try {
        client.connect(silent.server.sockname(), trusting_client());
      } catch (const TLSError& error) {
        EXPECT_TRUE(error.closed());
        message = error.what();
      }
    });
    sleep(50ms);
    client.close();
    connecting->join();
    EXPECT_THAT(message, HasSubstr("closed"));
  });
}

TEST_F(TlsTest, TimeoutAndKillInterruptAReadAndTheStreamGoesOn) {
  Event go;
  RunningTls running(server_context(certs().server), [&](std::shared_ptr<StreamConnection> c) {
    go.wait();
    c->write("late\n");
    go.clear();
    go.wait();
    c->write("later\n");
  });
  bounded([&] {
    TLSClient client;
    client.connect(running.address(), trusting_client());
    {
      Timeout deadline(50ms);
      EXPECT_THROW(client.read_until("\n"), Timeout);
    }
    go.set();
    EXPECT_EQ(client.read_until("\n"), "late\n");
    bool finished = false;
    auto reading = spawn([&] {
      client.read_until("\n");
      finished = true;
    });
    sleep(50ms);
    reading->kill();
    reading->join();
    EXPECT_FALSE(finished);
    go.set();
    EXPECT_EQ(client.read_until("\n"), "later\n");
  });
}

TEST_F(TlsTest, CloseWakesABlockedReader) {
  RunningTls running(server_context(certs().server), [](std::shared_ptr<StreamConnection> c) {
    c->read_bytes(1);
  });
  bounded([&] {
    TLSClient client;
    client.connect(running.address(), trusting_client());
    bool closed_error = false;
    auto reading = spawn([&] {
      try {
        client.read_until("\n");
      } catch (const TLSError& error) {
        closed_error = error.closed();
      }
    });
    sleep(20ms);
    client.close();
    reading->join();
    EXPECT_TRUE(closed_error);
    EXPECT_THROW(client.write("x"), TLSError);
  });
}

TEST_F(TlsTest, ShutdownSendsCloseNotifyAndReadsGoOn) {
  std::string received;
  RunningTls running(server_context(certs().server), [&](std::shared_ptr<StreamConnection> c) {
    for (std::string data; !(data = c->read_bytes(100)).empty();) received += data;
    c->write("bye\n");  // the client shut its side only
  });
  bounded([&] {
    TLSClient client;
    client.connect(running.address(), trusting_client());
    client.write("last words");
    client.shutdown();
    EXPECT_THROW(client.write("more"), TLSError);
    EXPECT_EQ(client.read_until("\n"), "bye\n");
    EXPECT_EQ(client.read_until("\n"), "");
    EXPECT_EQ(received, "last words");
  });
}

TEST_F(TlsTest, ShutdownDoesNotWaitForThePeersCloseNotify) {
  Event done;
  RunningTls running(server_context(certs().server), [&](std::shared_ptr<StreamConnection> c) {
    done.wait();  // never reads, never answers
  });
  bounded([&] {
    TLSClient client;
    client.connect(running.address(), trusting_client());
    client.write("x");
    client.shutdown();  // returns although the server says nothing
    done.set();
  });
}

TEST_F(TlsTest, APeerThatClosesMidRecordIsAnErrorNotEndOfStream) {
  RunningTls running(server_context(certs().server), [](std::shared_ptr<StreamConnection> c) {
    c->write("whole\n");
    c->flush();
    // Half a record straight onto the socket: a header that promises 4 KiB.
    const char partial[] = "\x17\x03\x03\x10\x00partial";
    ::send(c->fileno(), partial, sizeof partial - 1, MSG_NOSIGNAL);
    ::shutdown(c->fileno(), SHUT_RDWR);  // no close_notify can follow
  });
  bounded([&] {
    TLSClient client;
    client.connect(running.address(), trusting_client());
    EXPECT_EQ(client.read_until("\n"), "whole\n");
    try {
      client.read_until("\n");
      ADD_FAILURE() << "a truncated stream read as complete";
    } catch (const TLSError& error) {
      EXPECT_FALSE(error.closed());
      EXPECT_THAT(std::string(error.what()), HasSubstr("TLS stream"));
    }
    EXPECT_TRUE(client.closed());
  });
}

TEST_F(TlsTest, CloseThatDropsOutputSendsNoCloseNotify) {
  bool output_dropped = false;
  RunningTls running(server_context(certs().server), [&](std::shared_ptr<StreamConnection> c) {
    int small = 4096;
    setsockopt(c->fileno(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    c->set_write_high_water(8 << 20);
    c->write(std::string(4 << 20, 'x'));  // far more than the socket takes at once
    output_dropped = c->pending_output() > 0;
    c->close();  // drops it: the client must not read a clean end
  });
  bounded([&] {
    TLSClient client;
    client.connect(running.address(), trusting_client());
    size_t received = 0;
    try {
      for (std::string data; !(data = client.read_bytes(1 << 16)).empty();) received += data.size();
      ADD_FAILURE() << "a truncated stream ended cleanly after " << received << " bytes";
    } catch (const TLSError& error) {
      EXPECT_FALSE(error.closed());
    }
    EXPECT_LT(received, 4u << 20);
  });
  EXPECT_TRUE(output_dropped);
}

TEST_F(TlsTest, AlpnPicksTheServersFirstChoiceTheClientOffers) {
  TLSContext server = server_context(certs().server);
  server.set_alpn({"h2", "http/1.1"});
  std::string seen_by_server;
  RunningTls running(server, [&](std::shared_ptr<StreamConnection> c) {
    seen_by_server = std::static_pointer_cast<TLSConnection>(c)->alpn_protocol();
    echo(std::move(c));
  });
  bounded([&] {
    TLSContext context = trusting_client();
    context.set_alpn({"http/1.1", "h2"});
    TLSClient client;
    client.connect(running.address(), context);
    EXPECT_EQ(client.alpn_protocol(), "h2");
    client.write("x\n");
    client.read_until("\n");
    EXPECT_EQ(seen_by_server, "h2");

    TLSContext other = trusting_client();
    other.set_alpn({"spdy/3"});  // nothing in common: no ALPN
    TLSClient no_match;
    no_match.connect(running.address(), other);
    EXPECT_EQ(no_match.alpn_protocol(), "");

    TLSClient none;
    none.connect(running.address(), trusting_client());
    EXPECT_EQ(none.alpn_protocol(), "");
  });
  TLSContext bad = TLSContext::client();
  EXPECT_THROW(bad.set_alpn({""}), std::invalid_argument);
  EXPECT_THROW(bad.set_alpn({std::string(256, 'a')}), std::invalid_argument);
}

TEST_F(TlsTest, SniSelectsTheCertificateForTheRequestedName) {
  TLSContext server = server_context(certs().server);
  server.add_server_name("Alt.Example", certs().alt.cert, certs().alt.key);
  std::vector<std::string> names;
  RunningTls running(server, [&](std::shared_ptr<StreamConnection> c) {
    names.push_back(std::static_pointer_cast<TLSConnection>(c)->server_name());
    echo(std::move(c));
  });
  bounded([&] {
    TLSClient alt;
    alt.connect(running.address(), trusting_client(), "alt.example");
    EXPECT_EQ(alt.peer_certificate_subject(), "CN=alt.example");
    alt.write("a\n");
    EXPECT_EQ(alt.read_until("\n"), "a\n");
    TLSClient default_name;
    default_name.connect(running.address(), trusting_client(), "localhost");
    EXPECT_EQ(default_name.peer_certificate_subject(), "CN=localhost");
    default_name.write("b\n");
    EXPECT_EQ(default_name.read_until("\n"), "b\n");
    TLSClient by_ip;  // no SNI for an address
    by_ip.connect(running.address(), trusting_client());
    EXPECT_EQ(by_ip.peer_certificate_subject(), "CN=localhost");
    by_ip.write("c\n");
    EXPECT_EQ(by_ip.read_until("\n"), "c\n");
  });
  EXPECT_EQ(names, (std::vector<std::string>{"alt.example", "localhost", ""}));
  EXPECT_THROW(TLSContext::client().add_server_name("x", certs().alt.cert, certs().alt.key),
               std::logic_error);
}

// A client that presents `identity` (or none) to a server requiring client
// certificates from the test CA: returns whether the exchange worked.
bool client_certificate_accepted(RunningTls& running, const TlsCerts::Pair* identity) {
  TLSContext context = trusting_client();
  if (identity != nullptr) context.use_certificate(identity->cert, identity->key);
  TLSClient client;
  try {
    // TLS 1.3 lets the client finish its handshake before the server has
    // judged its certificate: the refusal may come with the first read.
    client.connect(running.address(), context);
    client.write("hi\n");
    return client.read_until("\n") == "hi\n";
  } catch (const TLSError& error) {
    EXPECT_FALSE(error.closed());
    return false;
  }
}

TEST_F(TlsTest, ClientCertificatesRequiredAcceptedAndRejected) {
  TLSContext server = server_context(certs().server);
  server.load_verify_locations(certs().ca.cert);
  server.require_client_certificate(true);
  std::vector<std::string> subjects;
  RunningTls running(server, [&](std::shared_ptr<StreamConnection> c) {
    subjects.push_back(std::static_pointer_cast<TLSConnection>(c)->peer_certificate_subject());
    echo(std::move(c));
  });
  bounded([&] {
    EXPECT_TRUE(client_certificate_accepted(running, &certs().client));
    EXPECT_FALSE(client_certificate_accepted(running, nullptr));
    EXPECT_FALSE(client_certificate_accepted(running, &certs().rogue_client));
    EXPECT_TRUE(client_certificate_accepted(running, &certs().client));
  });
  EXPECT_EQ(subjects, (std::vector<std::string>{"CN=client", "CN=client"}));
  EXPECT_THROW(TLSContext::client().require_client_certificate(true), std::logic_error);
}

TEST_F(TlsTest, BadFilesAreNamed) {
  const TlsCerts& c = certs();
  std::string missing = c.dir + "/missing.pem";
  std::string message = tls_error_of([&] { TLSContext::server(missing, c.server.key); });
  EXPECT_THAT(message, HasSubstr(missing));
  EXPECT_THAT(message, HasSubstr("No such file"));
  message = tls_error_of([&] { TLSContext::server(c.server.cert, missing); });
  EXPECT_THAT(message, HasSubstr(missing));
  message = tls_error_of([&] { TLSContext::server(c.garbage, c.server.key); });
  EXPECT_THAT(message, HasSubstr(c.garbage));
  message = tls_error_of([&] { TLSContext::server(c.server.cert, c.garbage); });
  EXPECT_THAT(message, HasSubstr(c.garbage));
  message = tls_error_of([&] { TLSContext::server(c.server.cert, c.client.key); });
  EXPECT_THAT(message, HasSubstr(c.client.key));
  EXPECT_THAT(message, HasSubstr("does not match"));
  TLSContext client = TLSContext::client();
  message = tls_error_of([&] { client.load_verify_locations(missing); });
  EXPECT_THAT(message, HasSubstr(missing));
  message = tls_error_of([&] { client.load_verify_locations(c.garbage); });
  EXPECT_THAT(message, HasSubstr(c.garbage));
  message = tls_error_of([&] { client.use_certificate(c.client.cert, c.server.key); });
  EXPECT_THAT(message, HasSubstr("does not match"));
  EXPECT_THROW(TLSServer(TLSContext::client()), std::invalid_argument);
  TLSClient tls;
  EXPECT_THROW(tls.connect({"127.0.0.1", 1}, server_context(c.server)), std::invalid_argument);
}

TEST_F(TlsTest, ManyConcurrentClients) {
  const int kClients = kSanitized ? 100 : 1000;
  RunningTls running(server_context(certs().server), echo);
  TLSContext context = trusting_client();
  int served = 0;
  bounded(
      [&] {
        std::vector<std::shared_ptr<Task>> tasks;
        for (int i = 0; i < kClients; ++i) {
          tasks.push_back(spawn([&, i] {
            TLSClient client;
            client.connect(running.address(), context);
            std::string line = "client " + std::to_string(i) + "\n";
            client.write(line);
            if (client.read_until("\n") == line) ++served;
          }));
        }
        for (auto& task : tasks) task->join();
      },
      120s);
  EXPECT_EQ(served, kClients);
}

}  // namespace
}  // namespace evergreen::testing
