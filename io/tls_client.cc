// TLSClient: a TCP connection (internal::connect_tcp, as TCPClient), then the
// client side of the handshake; after it the stream's bytes go through the
// TlsSession (a StreamTransport), everything else is BaseStream's.
#include <cerrno>
#include <stdexcept>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "evergreen/io/internal/fd_ops.h"
#include "evergreen/io/internal/tcp_connect.h"
#include "evergreen/io/internal/tls_context_state.h"
#include "evergreen/io/internal/tls_session.h"
#include "evergreen/io/tls.h"

namespace evergreen::io {

using internal::ErrorKind;
using internal::UniqueFd;

namespace {

// A transport's short read does not prove the socket's queue empty.
constexpr internal::FdTraits kTlsTraits{.socket = true, .stream_socket = false};

// "[::1]" names the address ::1.
std::string bare_host(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

TLSClient::TLSClient() : BaseStream(ErrorKind::kTLS) {}

// close_notify tells the peer the stream ended where the sender meant it to:
// not when close() drops output still unsent.
TLSClient::~TLSClient() {
  if (session_ != nullptr && !closed() && pending_output() == 0) {
    session_->notify_close_if_possible();
  }
}

void TLSClient::on_close() {
  if (session_ != nullptr && pending_output() == 0) session_->notify_close_if_possible();
}

void TLSClient::connect(const Address& target, const TLSContext& context,
                        std::optional<std::string> server_name) {
  if (context.is_server()) {
    throw std::invalid_argument("evergreen: TLSClient::connect to " + target.to_string() +
                                ": the TLSContext is a server context; use TLSContext::client()");
  }
  std::string context_text = "cannot connect to " + target.to_string();
  check_not_closed("connect");
  if (has_fd() || session_ != nullptr) {
    raise(EISCONN, context_text + ": the client is already connected");
  }
  std::string name = server_name.value_or(bare_host(target.host));
  bool verify = context.verify_peer();
  if (verify && name.empty()) {
    throw std::invalid_argument("evergreen: " + context_text +
                                ": no server name to verify the certificate against");
  }
  UniqueFd fd = internal::connect_tcp(watcher(), target, std::nullopt, /*nodelay=*/true,
                                      ErrorKind::kTLS, context_text, [this] { return closed(); });
  // From here until open_fd() the socket is this function's: a failure (or a
  // Timeout, a kill, a close()) leaves the watcher and drops the session.
  internal::IoWatcher& readiness = watcher();
  bool destroyed = false;
  absl::Cleanup undo = [this, &readiness, &destroyed] {
    if (destroyed) return;
    readiness.detach();
    session_.reset();
  };
  session_ = std::make_unique<internal::TlsSession>(context.state(), fd.get());
  session_->set_server_name(name, verify);
  std::string handshake_text =
      "TLS handshake with " + target.to_string() + (name != target.host ? " (" + name + ")" : "") +
      " failed";
  // A destroyed client's members are gone: `destroyed` tells the cleanup to
  // leave them alone.
  session_->handshake(readiness, handshake_text, [this] { return closed(); }, &destroyed);
  std::move(undo).Cancel();
  set_transport(session_.get());
  open_fd(std::move(fd), kTlsTraits);
}

std::string TLSClient::alpn_protocol() const {
  return session_ != nullptr && session_->handshake_done() ? session_->alpn_protocol() : "";
}

std::string TLSClient::peer_certificate_subject() const {
  return session_ != nullptr && session_->handshake_done() ? session_->peer_certificate_subject()
                                                           : "";
}

Address TLSClient::sockname() const {
  check_not_closed("sockname");
  if (!has_fd()) raise(ENOTCONN, "sockname of a TLS client that is not connected");
  Address address = internal::local_address(fileno());
  if (address.host.empty()) raise(errno, "cannot read the TLS client's sockname");
  return address;
}

Address TLSClient::peername() const {
  check_not_closed("peername");
  if (!has_fd()) raise(ENOTCONN, "peername of a TLS client that is not connected");
  Address address = internal::remote_address(fileno());
  if (address.host.empty()) raise(errno, "cannot read the TLS client's peername");
  return address;
}

}  // namespace evergreen::io
