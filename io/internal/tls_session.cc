#include "evergreen/io/internal/tls_session.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "evergreen/io/internal/fd_ops.h"
#include "evergreen/io/internal/raise.h"

namespace evergreen::io::internal {
namespace {

// The most plaintext one SSL_write is offered: one record. Larger writes would
// let OpenSSL encrypt several records at once (multi-block), and a record it
// could not send would then hold more than the session keeps a copy of.
constexpr size_t kMaxRecord = 16384;

// --- The socket BIO ------------------------------------------------------------
//
// BIO data: the TlsSession, which knows the fd and records the errno of a
// failed call (for SSL_ERROR_SYSCALL).

TlsSession& session_of(BIO* bio) { return *static_cast<TlsSession*>(BIO_get_data(bio)); }

int bio_write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  ssize_t written = write_some(session_of(bio).fd(), data, static_cast<size_t>(size), true);
  if (written >= 0) return static_cast<int>(written);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    BIO_set_retry_write(bio);
  } else {
    session_of(bio).set_io_errno(errno);
  }
  return -1;
}

int bio_read(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  ssize_t count = read_some(session_of(bio).fd(), data, static_cast<size_t>(size));
  session_of(bio).set_socket_emptied(count > 0 && count < size);
  if (count >= 0) return static_cast<int>(count);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    BIO_set_retry_read(bio);
  } else {
    session_of(bio).set_io_errno(errno);
  }
  return -1;
}

int bio_puts(BIO* bio, const char* text) {
  return bio_write(bio, text, static_cast<int>(strlen(text)));
}

long bio_ctrl(BIO* bio, int command, long number, void* pointer) {
  (void)number;
  switch (command) {
    case BIO_C_GET_FD: {  // SSL_get_fd()
      int fd = session_of(bio).fd();
      if (pointer != nullptr) *static_cast<int*>(pointer) = fd;
      return fd;
    }
    case BIO_CTRL_FLUSH:
      return 1;  // writes go straight to the socket
    default:
      return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// One method table for the process, made on first use (thread-safe static).
const BIO_METHOD* socket_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "evergreen socket");
    BIO_meth_set_write(made, bio_write);
    BIO_meth_set_read(made, bio_read);
    BIO_meth_set_puts(made, bio_puts);
    BIO_meth_set_ctrl(made, bio_ctrl);
    BIO_meth_set_create(made, bio_create);
    return made;
  }();
  return method;
}

bool is_ip_literal(const std::string& name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

std::string subject_of(X509* certificate) {
  if (certificate == nullptr) return {};
  BIO* memory = BIO_new(BIO_s_mem());
  absl::Cleanup free_memory = [memory] { BIO_free(memory); };
  X509_NAME_print_ex(memory, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
  char* text = nullptr;
  long length = BIO_get_mem_data(memory, &text);
  return std::string(text, static_cast<size_t>(length));
}

}  // namespace

std::string take_openssl_errors() {
  std::string reasons;
  while (unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    std::string text;
    if (reason != nullptr) {
      text = reason;
    } else {
      char buffer[256];
      ERR_error_string_n(code, buffer, sizeof buffer);
      text = buffer;
    }
    if (reasons.find(text) != std::string::npos) continue;
    if (!reasons.empty()) reasons += "; ";
    reasons += text;
  }
  return reasons;
}

// --- TlsSession -------------------------------------------------------------------

TlsSession::TlsSession(std::shared_ptr<TlsContextState> context, int fd)
    : context_(std::move(context)), fd_(fd) {
  ERR_clear_error();
  ssl_ = SSL_new(context_->ctx);
  BIO* bio = ssl_ != nullptr ? BIO_new(socket_method()) : nullptr;
  if (bio == nullptr) {
    if (ssl_ != nullptr) SSL_free(ssl_);
    raise_error(ErrorKind::kTLS, ENOMEM,
                "evergreen: cannot set up a TLS session: " + take_openssl_errors());
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // the SSL owns the BIO now
  if (context_->server) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::set_server_name(const std::string& name, bool verify) {
  bool ip = is_ip_literal(name);
  if (verify) {
    if (name.empty()) {
      throw std::invalid_argument(
          "evergreen: TLS connect: no server name to verify the certificate against; give "
          "server_name, or turn verification off with set_verify_peer(false)");
    }
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
    } else {
      SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl_, name.c_str());
    }
  }
  // RFC 6066: SNI carries host names, never address literals.
  if (!ip && !name.empty()) SSL_set_tlsext_host_name(ssl_, name.c_str());
}

ssize_t TlsSession::fail_with(int ret) {
  int error = SSL_get_error(ssl_, ret);
  switch (error) {
    case SSL_ERROR_WANT_READ:
      wants_write_ = false;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      wants_write_ = true;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;  // the peer's close_notify: end of stream
    case SSL_ERROR_SYSCALL: {
      fatal_ = true;
      std::string reasons = take_openssl_errors();
      int saved = io_errno_ != 0 ? io_errno_ : ECONNRESET;
      failure_reason_ = reasons.empty() ? (io_errno_ != 0 ? std::string(strerror(saved))
                                                          : "the connection closed unexpectedly")
                                        : reasons;
      errno = saved;
      return -1;
    }
    default: {
      fatal_ = true;
      std::string reasons = take_openssl_errors();
      long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK && reasons.find("certificate verify failed") != std::string::npos) {
        reasons += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      }
      failure_reason_ = reasons.empty() ? "TLS protocol error" : reasons;
      errno = io_errno_ != 0 ? io_errno_ : EPROTO;
      return -1;
    }
  }
}

void TlsSession::handshake(IoWatcher& watcher, const std::string& context,
                           absl::AnyInvocable<bool()> closed, bool* owner_destroyed) {
  for (;;) {
    ERR_clear_error();
    io_errno_ = 0;
    int ret = SSL_do_handshake(ssl_);
    if (ret == 1) break;
    if (fail_with(ret) == 0 || errno != EAGAIN) {
      // A close_notify in the middle of the handshake is a failure too.
      if (failure_reason_.empty()) failure_reason_ = "the peer closed the connection";
      fatal_ = true;
      raise_error(ErrorKind::kTLS, errno == EAGAIN ? ECONNRESET : errno,
                  "evergreen: " + context + ": " + failure_reason_);
    }
    WaitResult woken;
    if (wants_write_) {
      watcher.clear_writable();
      woken = watcher.wait_writable();
    } else {
      watcher.clear_readable();
      woken = watcher.wait_readable();
    }
    if (woken == WaitResult::kDestroyed) {
      if (owner_destroyed != nullptr) *owner_destroyed = true;
      raise_closed_error(ErrorKind::kTLS, "evergreen: " + context +
                                              ": the stream was destroyed during the handshake");
    }
    if (closed()) {
      raise_closed_error(ErrorKind::kTLS,
                         "evergreen: " + context + ": the stream was closed during the handshake");
    }
  }
  handshake_done_ = true;
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &protocol, &length);
  alpn_protocol_.assign(reinterpret_cast<const char*>(protocol), protocol != nullptr ? length : 0);
  peer_subject_ = subject_of(SSL_get0_peer_certificate(ssl_));
  if (const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name)) {
    requested_server_name_ = name;
  }
}

ssize_t TlsSession::read(char* data, size_t size) {
  ERR_clear_error();
  io_errno_ = 0;
  socket_emptied_ = false;  // a read served from OpenSSL's buffer proves nothing
  int ret = SSL_read(ssl_, data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  if (ret > 0) return ret;
  return fail_with(ret);
}

bool TlsSession::drained() const { return socket_emptied_ && SSL_has_pending(ssl_) == 0; }

int TlsSession::flush_held() {
  while (!held_.empty()) {
    ERR_clear_error();
    io_errno_ = 0;
    int ret = SSL_write(ssl_, held_.data(), static_cast<int>(held_.size()));
    if (ret <= 0) {
      if (fail_with(ret) == 0) errno = EPIPE;  // cannot happen on a write; never 0 bytes
      return -1;
    }
    held_.erase(0, static_cast<size_t>(ret));
  }
  return 0;
}

ssize_t TlsSession::write(const char* data, size_t size) {
  if (flush_held() != 0) return -1;
  size_t chunk = std::min(size, kMaxRecord);
  ERR_clear_error();
  io_errno_ = 0;
  int ret = SSL_write(ssl_, data, static_cast<int>(chunk));
  if (ret > 0) return ret;
  if (fail_with(ret) < 0 && errno == EAGAIN) {
    // OpenSSL has encrypted (part of) this record and wants the same bytes
    // offered again: keep them, and report them taken.
    held_.assign(data, chunk);
    return static_cast<ssize_t>(chunk);
  }
  if (errno == EAGAIN || errno == 0) errno = EPIPE;
  return -1;
}

int TlsSession::shutdown_writes() {
  if (shut_down_) return 0;
  if (flush_held() != 0) return -1;
  ERR_clear_error();
  io_errno_ = 0;
  int ret = SSL_shutdown(ssl_);
  if (ret >= 0) {
    // 0: our close_notify is sent and the peer's has not come; it is not
    // waited for (reads still work and return "" when it does).
    shut_down_ = true;
    return 0;
  }
  if (fail_with(ret) == 0) {
    shut_down_ = true;
    return 0;
  }
  return -1;
}

void TlsSession::notify_close_if_possible() {
  if (!handshake_done_ || fatal_ || shut_down_ || !held_.empty()) return;
  shut_down_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // one non-blocking attempt: close() never waits
  ERR_clear_error();
}

}  // namespace evergreen::io::internal
