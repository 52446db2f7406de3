#include "evergreen/io/tcp.h"

#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "evergreen/io/internal/fd_ops.h"
#include "evergreen/io/internal/resolve.h"
#include "evergreen/io/internal/tcp_connect.h"
#include "evergreen/io/internal/reuse_port.h"

namespace evergreen::io {

using internal::ErrorKind;
using internal::FdTraits;
using internal::SocketAddress;
using internal::UniqueFd;

namespace {

constexpr FdTraits kTcpTraits{.socket = true, .stream_socket = true};

[[noreturn]] void raise_tcp(int error, const std::string& what) {
  internal::raise_error(ErrorKind::kTCP, error, "evergreen: " + what);
}

Address socket_address_of(int fd, bool remote, const char* which) {
  if (fd < 0) raise_tcp(EBADF, std::string(which) + " of a TCP socket that is not open");
  Address address = remote ? internal::remote_address(fd) : internal::local_address(fd);
  if (address.host.empty()) raise_tcp(errno, std::string("cannot read the TCP socket's ") + which);
  return address;
}

}  // namespace

// --- TCPConnection --------------------------------------------------------------

TCPConnection::TCPConnection(UniqueFd fd) : StreamConnection(ErrorKind::kTCP) {
  // Best effort: a connection without TCP_NODELAY still works, only slower.
  internal::set_tcp_nodelay(fd.get(), true);
  open_fd(std::move(fd), kTcpTraits);
}

void TCPConnection::set_nodelay(bool enable) {
  check_not_closed("set_nodelay");
  if (int error = internal::set_tcp_nodelay(fileno(), enable)) raise(error, "set_nodelay");
}

// --- TCPServer --------------------------------------------------------------------

TCPServer::TCPServer() : TCPServer(nullptr) {}

TCPServer::TCPServer(ConnectionHandler handler)
    : StreamServer(ErrorKind::kTCP, std::move(handler)) {}

void TCPServer::bind(const Address& address, BindOptions options) {
  std::string context = "cannot bind a TCP server to " + address.to_string();
  if (closed()) raise_closed(context + ": the server is closed");
  if (bound()) raise(EINVAL, context + ": the server is already bound");
  std::vector<SocketAddress> candidates =
      internal::resolve_endpoint(address, ErrorKind::kTCP, context);
  if (candidates.empty()) raise(EADDRNOTAVAIL, context + ": the name has no address");
  const SocketAddress& chosen = candidates.front();
  UniqueFd fd;
  if (int error = internal::open_socket(chosen.family(), SOCK_STREAM, &fd)) raise(error, context);
  if (options.reuse_port) {
    if (int error = internal::enable_reuse_port(fd.get())) raise(error, context + ": SO_REUSEPORT");
  }
  // Lets a restarted server bind while old connections sit in TIME_WAIT; a
  // socket still listening on the address is refused all the same.
  if (int error = internal::bind_socket(fd.get(), chosen, /*reuse_address=*/true)) {
    raise(error, context);
  }
  set_listener(std::move(fd));
}

Address TCPServer::sockname() const {
  check_thread("sockname");
  if (closed()) raise_closed("sockname of a closed TCP server");
  return socket_address_of(fileno(), false, "sockname");
}

std::shared_ptr<StreamConnection> TCPServer::make_connection(UniqueFd fd) {
  return std::make_shared<TCPConnection>(std::move(fd));
}

std::string TCPServer::describe() const {
  if (fileno() < 0) return "TCP server";
  Address address = internal::local_address(fileno());
  return "TCP server " + address.to_string();
}

// --- TCPClient ----------------------------------------------------------------------

TCPClient::TCPClient() : BaseStream(ErrorKind::kTCP) {}

void TCPClient::connect(const Address& target, std::optional<Address> source) {
  std::string context = "cannot connect to " + target.to_string();
  check_not_closed("connect");
  if (has_fd()) raise(EISCONN, context + ": the client is already connected");
  UniqueFd fd = internal::connect_tcp(watcher(), target, source, nodelay_, ErrorKind::kTCP, context,
                                      [this] { return closed(); });
  open_fd(std::move(fd), kTcpTraits);
}

Address TCPClient::sockname() const {
  check_not_closed("sockname");
  if (!has_fd()) raise(ENOTCONN, "sockname of a TCP client that is not connected");
  return socket_address_of(fileno(), false, "sockname");
}

Address TCPClient::peername() const {
  check_not_closed("peername");
  if (!has_fd()) raise(ENOTCONN, "peername of a TCP client that is not connected");
  return socket_address_of(fileno(), true, "peername");
}

void TCPClient::set_nodelay(bool enable) {
  check_not_closed("set_nodelay");
  nodelay_ = enable;
  if (has_fd()) {
    if (int error = internal::set_tcp_nodelay(fileno(), enable)) raise(error, "set_nodelay");
  }
}

}  // namespace evergreen::io
