// TlsSession: one TLS connection's OpenSSL state over a non-blocking socket,
// and the StreamTransport through which a BaseStream reads and writes its
// plaintext (see stream_transport.h for the contract).
//
// OpenSSL reads and writes the socket itself, through a small BIO that uses
// io's own system-call helpers (send with MSG_NOSIGNAL: a peer that went away
// never raises SIGPIPE) and turns EAGAIN into OpenSSL's "retry" state, so
// SSL_ERROR_WANT_READ / WANT_WRITE become an EAGAIN the stream waits out on
// the socket's IoWatcher like any other.
//
// A read that OpenSSL served with a short read(2) of the socket (read ahead
// asks for a whole buffer, so short means the socket had nothing more) and
// that left no record bytes in OpenSSL's buffer reports drained(): the
// stream then waits for the socket instead of issuing the read that would
// only say EAGAIN, one system call per message saved on each end.
//
// Writes use OpenSSL's partial-write mode, one record (at most 16 KiB of
// plaintext) per call. A record that could not be sent whole stays with
// OpenSSL, which insists on being offered the same bytes again: the session
// keeps a copy of them (held output) and counts them as accepted, as the
// kernel would have, so the stream above can move its own buffer freely.
#ifndef EVERGREEN_IO_INTERNAL_TLS_SESSION_H_
#define EVERGREEN_IO_INTERNAL_TLS_SESSION_H_

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "evergreen/io/internal/io_watcher.h"
#include "evergreen/io/internal/stream_transport.h"
#include "evergreen/io/internal/tls_context_state.h"

namespace evergreen::io::internal {

class TlsSession final : public StreamTransport {
 public:
  // A session on the connected socket `fd` (not owned), as the client or the
  // server side of `context`. Throws TLSError if OpenSSL cannot make one.
  TlsSession(std::shared_ptr<TlsContextState> context, int fd);
  ~TlsSession() override;
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Client: the name sent as SNI (unless an IP literal) and, when
  // `verify` is set, the name the certificate must carry (DNS or IP SAN).
  // Throws std::invalid_argument for an empty name to verify.
  void set_server_name(const std::string& name, bool verify);

  // TlsSession::handshake()
  //
  // Runs the handshake to its end, waiting on `watcher` (attached to the
  // socket) whenever OpenSSL must. `closed` is asked after each wait whether
  // the owner was closed meanwhile. Throws TLSError "evergreen: <context>:
  // <reason>" when it fails, the owner's closed() error when it was closed or
  // destroyed (then `*owner_destroyed` is set, and neither the owner nor
  // this session may be touched again), and raises a kill or Timeout
  // delivered while it waits.
  void handshake(IoWatcher& watcher, const std::string& context,
                 absl::AnyInvocable<bool()> closed, bool* owner_destroyed = nullptr);
  bool handshake_done() const { return handshake_done_; }

  // After the handshake.
  const std::string& alpn_protocol() const { return alpn_protocol_; }
  const std::string& peer_certificate_subject() const { return peer_subject_; }
  const std::string& requested_server_name() const { return requested_server_name_; }

  // Sends close_notify if the socket takes it at once; never waits. For
  // close() and destructors; does nothing before the handshake, after a
  // failure, after shutdown_writes(), or while a record is held back (the
  // stream would end truncated: the peer must not read a clean end).
  void notify_close_if_possible();

  // StreamTransport.
  ssize_t read(char* data, size_t size) override;
  ssize_t write(const char* data, size_t size) override;
  bool wants_write() const override { return wants_write_; }
  bool drained() const override;
  bool holds_output() const override { return !held_.empty(); }
  int flush_held() override;
  int shutdown_writes() override;
  std::string failure_reason() const override { return failure_reason_; }

  int fd() const { return fd_; }
  // The BIO's record of the last system call failure (for SSL_ERROR_SYSCALL).
  void set_io_errno(int value) { io_errno_ = value; }
  // The BIO's record of its last read(2): whether it returned fewer bytes
  // than asked for (the socket's queue was emptied).
  void set_socket_emptied(bool emptied) { socket_emptied_ = emptied; }

 private:
  // Turns the result `ret` of an SSL_* call into -1 with errno set: EAGAIN
  // (wants_write() says which way), or a failure whose reason is kept.
  ssize_t fail_with(int ret);

  std::shared_ptr<TlsContextState> context_;
  int fd_;
  SSL* ssl_ = nullptr;
  bool handshake_done_ = false;
  bool wants_write_ = false;
  bool fatal_ = false;  // OpenSSL must not be asked to send anything after one
  bool shut_down_ = false;
  int io_errno_ = 0;
  bool socket_emptied_ = false;
  std::string held_;
  std::string failure_reason_;
  std::string alpn_protocol_;
  std::string peer_subject_;
  std::string requested_server_name_;
};

// OpenSSL's queued errors (then cleared) as one line: the reason of each,
// "; "-separated, "" when there is none.
std::string take_openssl_errors();

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_TLS_SESSION_H_
