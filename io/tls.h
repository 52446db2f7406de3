// evergreen/io/tls.h (Bazel target //io:tls; links OpenSSL)
//
// TLS over TCP: encrypted streams for clients and servers, secure by default.
//
//   io::TLSContext context = io::TLSContext::client();   // system trust store
//   io::TLSClient client;
//   client.connect({"example.com", 443}, context);         // TCP, then the handshake
//   client.write("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n");
//   std::string status = client.read_until("\r\n");
//
//   io::TLSServer server(io::TLSContext::server("cert.pem", "key.pem"),
//                        [](std::shared_ptr<io::StreamConnection> connection) {
//                          connection->write(connection->read_until("\n"));
//                        });
//   server.bind({"127.0.0.1", 8443});
//   server.serve();
//
// - TLSContext::client() verifies the server's certificate chain against the
//   system's trust store and its host name (DNS names against DNS SANs, an IP
//   literal against IP SANs), sends the name as SNI, and speaks TLS 1.2 or
//   1.3 only. Turning verification off takes an explicit set_verify_peer(false).
// - TLSClient and TLSConnection are BaseStreams: every member (read_bytes,
//   read_until, read_until_regex, write, flush, shutdown, close) works on the
//   decrypted bytes with the same bounded buffers and back-pressure as a TCP
//   stream. The handshake, reads and writes are cooperative: they block only
//   the calling task, and Timeout, kill and close() interrupt them.
// - shutdown() flushes, then sends close_notify (the peer reads end of
//   stream); it does not wait for the peer's close_notify. close() and the
//   destructor send close_notify too when the socket has room for it, without
//   waiting. A peer that closes the connection without close_notify makes
//   reads fail ("unexpected eof while reading"): the data may be truncated.
// - TLSServer handshakes each connection in the connection's own task before
//   handle_connection() sees it, bounded by handshake_timeout(); a failed or
//   timed-out handshake (a plaintext client, a rejected client certificate, a
//   client that never finishes) drops that connection only.
// - Errors are TLSError (a StreamError, evergreen/io/errors.h) and carry
//   OpenSSL's reason: "certificate verify failed (certificate has expired)",
//   "wrong version number". Bad certificate or key files name the file.
// - Contexts may be shared by any number of clients and servers of any thread;
//   changing one while connections are being set up with it is not supported.
//   Streams and servers are single-loop objects, as in evergreen/io/stream.h.
#ifndef EVERGREEN_IO_TLS_H_
#define EVERGREEN_IO_TLS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evergreen/io/address.h"
#include "evergreen/io/errors.h"
#include "evergreen/io/stream.h"
#include "evergreen/io/tcp.h"

namespace evergreen::io {

namespace internal {
struct TlsContextState;
class TlsSession;
}  // namespace internal

// TLSContext
//
// The settings connections are made with: certificates, what to trust, what
// to verify, ALPN. A copyable handle: copies share one set of settings, so a
// change through any copy applies to the connections set up afterwards.
class TLSContext {
 public:
  // TLSContext::client()
  //
  // For TLSClient: TLS 1.2 or newer, the peer's chain verified against the
  // system trust store, its host name checked.
  static TLSContext client();

  // TLSContext::server()
  //
  // For TLSServer, presenting the certificate chain in `cert_chain_file` (PEM,
  // the server's certificate first) with the private key in
  // `private_key_file` (PEM). TLS 1.2 or newer; client certificates are not
  // asked for (see require_client_certificate()). Throws TLSError naming the
  // file when it is missing, is not PEM, or the key does not match the
  // certificate.
  static TLSContext server(std::string_view cert_chain_file, std::string_view private_key_file);

  // TLSContext::load_verify_locations()
  //
  // Also trusts the CA certificates in `ca_file` (PEM): a private CA for a
  // client, the CA that issues client certificates for a server. Throws
  // TLSError naming the file when it is missing or holds no certificate.
  void load_verify_locations(std::string_view ca_file);

  // TLSContext::set_verify_peer()
  //
  // Client: false turns off the verification of the server's chain and host
  // name (default true). Server: true asks clients for a certificate and
  // verifies one if given; false (the default) does not ask, and also undoes
  // require_client_certificate().
  void set_verify_peer(bool verify);
  bool verify_peer() const;

  // TLSContext::use_certificate()
  //
  // Presents this certificate chain and key: a client certificate, or a
  // server's default certificate (replacing the one given to server()).
  // Throws as server() does.
  void use_certificate(std::string_view cert_chain_file, std::string_view private_key_file);

  // TLSContext::require_client_certificate()
  //
  // Server: true makes the handshake fail unless the client presents a
  // certificate that verifies against load_verify_locations(). Throws
  // std::logic_error on a client context.
  void require_client_certificate(bool require);

  // TLSContext::set_alpn()
  //
  // The application protocols offered ("h2", "http/1.1"), most preferred
  // first. A server picks the first of its own that the client offers, and
  // goes on without ALPN when none matches. Empty: no ALPN. Throws
  // std::invalid_argument for an empty name or one longer than 255 bytes.
  void set_alpn(std::vector<std::string> protocols);

  // TLSContext::add_server_name()
  //
  // Server: presents the certificate chain and key in these files to a client
  // that asks (by SNI) for the host `name` (compared without regard to case);
  // clients that ask for another name, or none, get the default certificate.
  // Adding a name again replaces its certificate. Throws as server() does, and
  // std::logic_error on a client context.
  void add_server_name(std::string_view name, std::string_view cert_chain_file,
                       std::string_view private_key_file);

  bool is_server() const;

  // For evergreen's TLS streams.
  const std::shared_ptr<internal::TlsContextState>& state() const { return state_; }

 private:
  explicit TLSContext(std::shared_ptr<internal::TlsContextState> state);
  std::shared_ptr<internal::TlsContextState> state_;
};

// TLSConnection
//
// A connection accepted by a TLSServer, handed to handle_connection() once
// its handshake has succeeded.
class TLSConnection : public StreamConnection {
 public:
  // Wraps an accepted, non-blocking socket; the server handshakes it.
  TLSConnection(internal::UniqueFd fd, const TLSContext& context);
  ~TLSConnection() override;

  // The protocol ALPN agreed on, "" if none.
  std::string alpn_protocol() const;
  // The client certificate's subject ("CN=client,O=Example"), "" if none.
  std::string peer_certificate_subject() const;
  // The host name the client asked for by SNI, "" if none.
  std::string server_name() const;

  // sockname() and peername() come from StreamConnection (TLSError once closed).

  // TLSConnection::handshake()
  //
  // Runs the server side of the handshake (TLSServer calls it in the
  // connection's task). Throws TLSError with OpenSSL's reason when it fails,
  // and raises a kill or Timeout delivered meanwhile.
  void handshake();

 protected:
  void on_close() override;

 private:
  std::unique_ptr<internal::TlsSession> session_;
};

// TLSServer
//
// A TCP server whose connections are TLSConnections. Subclass it and override
// handle_connection(), or give the constructor a handler; bind(), serve(),
// close(), sockname() and connections() are TCPServer's.
class TLSServer : public TCPServer {
 public:
  static constexpr Duration kDefaultHandshakeTimeout = std::chrono::seconds(10);

  // Throws std::invalid_argument when `context` is not a server context.
  explicit TLSServer(TLSContext context, ConnectionHandler handler = nullptr);

  // TLSServer::set_handshake_timeout()
  //
  // How long a client may take to complete the handshake before its
  // connection is dropped (default 10 s); std::nullopt: no bound. Throws
  // std::invalid_argument, naming the server, unless positive.
  void set_handshake_timeout(std::optional<Duration> timeout);
  std::optional<Duration> handshake_timeout() const { return handshake_timeout_; }

  const TLSContext& context() const { return context_; }

 protected:
  std::shared_ptr<StreamConnection> make_connection(internal::UniqueFd fd) override;
  bool prepare_connection(StreamConnection& connection) override;
  std::string describe() const override;

 private:
  TLSContext context_;
  std::optional<Duration> handshake_timeout_ = kDefaultHandshakeTimeout;
};

// TLSClient
//
// An outgoing TLS connection.
class TLSClient : public BaseStream {
 public:
  TLSClient();
  ~TLSClient() override;

  // TLSClient::connect()
  //
  // Connects over TCP to `target` (as TCPClient::connect() does), then runs
  // the handshake with `context`'s settings. `server_name` (default: the
  // target's host) is sent as SNI and is the name the server's certificate
  // must carry; an IP literal is checked against the certificate's IP SANs
  // (and not sent as SNI). Output written before connect() is sent, encrypted,
  // once the handshake is done. Blocks the caller; Timeout, kill and close()
  // interrupt it. Throws TLSError: the TCP errors (ECONNREFUSED...), and for a
  // failed handshake OpenSSL's reason ("certificate verify failed (certificate
  // has expired)"); EISCONN when already connected; std::invalid_argument for
  // a server context, or for an empty name while verification is on.
  void connect(const Address& target, const TLSContext& context,
               std::optional<std::string> server_name = std::nullopt);

  bool connected() const { return has_fd(); }

  // The protocol ALPN agreed on, "" if none.
  std::string alpn_protocol() const;
  // The server certificate's subject ("CN=localhost,O=Example"), "" if none.
  std::string peer_certificate_subject() const;

  // The local / remote address. Throw TLSError before connect() or once closed.
  Address sockname() const;
  Address peername() const;

 protected:
  void on_close() override;

 private:
  std::unique_ptr<internal::TlsSession> session_;
};

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_TLS_H_
