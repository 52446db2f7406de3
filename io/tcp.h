// evergreen/io/tcp.h
//
// Cooperative TCP: a client, a server that runs each connection in a task of
// its own, and the server side of a connection. All are streams
// (evergreen/io/stream.h) and throw TCPError.
//
//   io::TCPServer server([](std::shared_ptr<io::StreamConnection> connection) {
//     for (std::string line; !(line = connection->read_until("\n")).empty();) {
//       connection->write(line);
//     }
//   });
//   server.bind({"127.0.0.1", 0});
//   spawn([&] { server.serve(); });
//
//   io::TCPClient client;
//   client.connect(server.sockname());
//   client.write("hello\n");
//   std::string echoed = client.read_until("\n");
//
// TCP_NODELAY is on for every connection (as in Go): a small write goes out
// at once instead of waiting for the previous one's acknowledgement.
#ifndef EVERGREEN_IO_TCP_H_
#define EVERGREEN_IO_TCP_H_

#include <memory>
#include <optional>
#include <string>

#include "evergreen/io/address.h"
#include "evergreen/io/bind_options.h"
#include "evergreen/io/errors.h"
#include "evergreen/io/stream.h"

namespace evergreen::io {

// TCPConnection
//
// A connection accepted by a TCPServer.
class TCPConnection : public StreamConnection {
 public:
  // Wraps an accepted, non-blocking socket (the server does this).
  explicit TCPConnection(internal::UniqueFd fd);

  // sockname() and peername() (the local / remote IP address and port) come
  // from StreamConnection; they throw TCPError once closed.

  // Turns TCP_NODELAY on (the default) or off. Throws TCPError once closed.
  void set_nodelay(bool enable);
};

// TCPServer
//
// Subclass it and override handle_connection(), or give the constructor a
// handler. Either runs in a new task for each accepted connection.
class TCPServer : public StreamServer {
 public:
  // Connections are handled by handle_connection() (by default: closed).
  TCPServer();
  // Connections are handled by `handler`, each in a task of its own.
  explicit TCPServer(ConnectionHandler handler);

  // TCPServer::bind()
  //
  // Binds to `address` (port 0: an ephemeral port, see sockname()) and starts
  // listening: clients may connect at once and wait until serve() accepts
  // them. A host name is resolved first (blocking the caller) and its first
  // address used. With options.reuse_port, other servers that ask for it too
  // (one per loop of a LoopGroup) may bind the same address; see
  // bind_options.h.
  // Throws TCPError: EINVAL for a malformed address, EADDRINUSE when another
  // socket holds it, the DNS status for a name that does not resolve.
  void bind(const Address& address, BindOptions options = {});

  // Where the server listens. Throws TCPError before bind() or after close().
  Address sockname() const;

 protected:
  std::shared_ptr<StreamConnection> make_connection(internal::UniqueFd fd) override;
  std::string describe() const override;
};

// TCPClient
//
// An outgoing connection.
class TCPClient : public BaseStream {
 public:
  TCPClient();

  // TCPClient::connect()
  //
  // Connects to `target`: an IPv4/IPv6 literal, or a host name resolved
  // cooperatively (/etc/hosts, then DNS) whose addresses are tried in turn.
  // With `source`, binds the local end to it first. Blocks the caller until
  // connected; honours Timeout and kill (the attempt is abandoned). Output
  // written before connect() is sent once connected. Throws TCPError naming
  // the target: the last attempt's errno (ECONNREFUSED, ETIMEDOUT...), EINVAL
  // for a malformed address, the DNS status when the name does not resolve,
  // EISCONN when already connected, EBADF after close(). An empty host is
  // bad input, not "any address" (that is for bind): std::invalid_argument
  // naming the target. A bracketed IPv6 literal ("[::1]") is accepted.
  void connect(const Address& target, std::optional<Address> source = std::nullopt);

  bool connected() const { return has_fd(); }

  // The local / remote address. Throw TCPError before connect() or once closed.
  Address sockname() const;
  Address peername() const;

  // Turns TCP_NODELAY on (the default) or off, now or when connected.
  void set_nodelay(bool enable);

 private:
  bool nodelay_ = true;
};

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_TCP_H_
