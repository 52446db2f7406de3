// TLSConnection and TLSServer: a TCP server whose connections carry a
// TlsSession, handshaken in each connection's own task (prepare_connection)
// under the server's handshake timeout before handle_connection() runs.
#include <stdexcept>
#include <utility>

#include "evergreen/io/internal/fd_ops.h"
#include "evergreen/io/internal/tls_context_state.h"
#include "evergreen/io/internal/tls_session.h"
#include "evergreen/io/tls.h"
#include "evergreen/loop/timeout.h"

namespace evergreen::io {

using internal::ErrorKind;
using internal::UniqueFd;

namespace {

// A transport's short read does not prove the socket's queue empty.
constexpr internal::FdTraits kTlsTraits{.socket = true, .stream_socket = false};

}  // namespace

// --- TLSConnection ----------------------------------------------------------------

TLSConnection::TLSConnection(UniqueFd fd, const TLSContext& context)
    : StreamConnection(ErrorKind::kTLS) {
  // Best effort, as for TCP: a connection without TCP_NODELAY only is slower.
  internal::set_tcp_nodelay(fd.get(), true);
  session_ = std::make_unique<internal::TlsSession>(context.state(), fd.get());
  set_transport(session_.get());
  open_fd(std::move(fd), kTlsTraits);
}

// close_notify tells the peer the stream ended where the sender meant it to:
// not when close() drops output still unsent.
TLSConnection::~TLSConnection() {
  if (!closed() && pending_output() == 0) session_->notify_close_if_possible();
}

void TLSConnection::on_close() {
  if (pending_output() == 0) session_->notify_close_if_possible();
  StreamConnection::on_close();
}

void TLSConnection::handshake() {
  check_not_closed("handshake");
  std::string peer = internal::remote_address(fileno()).to_string();
  session_->handshake(watcher(), "TLS handshake with " + peer + " failed",
                      [this] { return closed(); });
}

std::string TLSConnection::alpn_protocol() const { return session_->alpn_protocol(); }

std::string TLSConnection::peer_certificate_subject() const {
  return session_->peer_certificate_subject();
}

std::string TLSConnection::server_name() const { return session_->requested_server_name(); }

// --- TLSServer --------------------------------------------------------------------

TLSServer::TLSServer(TLSContext context, ConnectionHandler handler)
    : TCPServer(std::move(handler)), context_(std::move(context)) {
  if (!context_.is_server()) {
    throw std::invalid_argument(
        "evergreen: TLSServer needs a server TLSContext (TLSContext::server(cert, key)), not a "
        "client one");
  }
}

void TLSServer::set_handshake_timeout(std::optional<Duration> timeout) {
  if (timeout && *timeout <= Duration::zero()) {
    throw std::invalid_argument("evergreen: set_handshake_timeout() on the " + describe() +
                                ": the timeout must be positive (or std::nullopt for none)");
  }
  handshake_timeout_ = timeout;
}

std::shared_ptr<StreamConnection> TLSServer::make_connection(UniqueFd fd) {
  return std::make_shared<TLSConnection>(std::move(fd), context_);
}

bool TLSServer::prepare_connection(StreamConnection& connection) {
  Timeout deadline(handshake_timeout_);
  try {
    static_cast<TLSConnection&>(connection).handshake();
    return true;
  } catch (const Timeout& fired) {
    if (!fired.is(deadline)) throw;
    return false;  // a client that never finished the handshake
  }
}

std::string TLSServer::describe() const {
  if (fileno() < 0) return "TLS server";
  return "TLS server " + internal::local_address(fileno()).to_string();
}

}  // namespace evergreen::io
