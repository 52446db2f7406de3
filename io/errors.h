// evergreen/io/errors.h
//
// The exceptions evergreen::io throws. Every one derives from
// std::system_error: code() carries the errno value (generic_category) that
// caused it, or for DNS failures the c-ares status (dns_category()), and
// what() names the operation and the object, e.g.
//   "evergreen: cannot connect to 127.0.0.1:1: Connection refused".
//
//   std::system_error
//   ├── StreamError          any stream (BaseStream, StreamServer)
//   │   ├── TCPError         TCPClient, TCPServer, TCPConnection
//   │   ├── PipeError        PipeClient, PipeServer, PipeConnection, PipeStream
//   │   ├── TTYError         TTYStream, StdinStream, StdoutStream, StderrStream
//   │   └── TLSError         TLSContext, TLSClient, TLSServer, TLSConnection (//io:tls)
//   ├── UDPError             UDPEndpoint
//   ├── FileError            File
//   └── DNSError             getaddrinfo(), Resolver
#ifndef EVERGREEN_IO_ERRORS_H_
#define EVERGREEN_IO_ERRORS_H_

#include <cerrno>
#include <memory>
#include <string>
#include <system_error>

namespace evergreen::io {

class StreamError : public std::system_error {
 public:
  using std::system_error::system_error;
  // An errno value and what failed ("evergreen: cannot connect to 127.0.0.1:1").
  StreamError(int errno_value, const std::string& what)
      : std::system_error(errno_value, std::generic_category(), what) {}

  // Selects the constructor for an operation on a stream this side closed.
  struct ClosedByThisSide {};
  // An operation failed because this side (or its server) closed the stream
  // or server: closed() is true, code() is EBADF, and what() is `what` as
  // given ("evergreen: read_until on a closed TCP stream"), without
  // "Bad file descriptor" appended.
  StreamError(ClosedByThisSide, const std::string& what)
      : std::system_error(EBADF, std::generic_category(), what),
        closed_message_(std::make_shared<const std::string>(what)) {}

  // StreamError::closed()
  //
  // True when the operation failed because this side closed the stream: its
  // own close(), its server's close(), or its destruction, before or while the
  // operation waited. False for every other error, including a peer's reset
  // (ECONNRESET) and the errors of operations on a stream an earlier I/O
  // error closed.
  bool closed() const noexcept { return closed_message_ != nullptr; }

  const char* what() const noexcept override {
    return closed_message_ ? closed_message_->c_str() : std::system_error::what();
  }

 private:
  std::shared_ptr<const std::string> closed_message_;  // set exactly when closed()
};

class TCPError : public StreamError {
 public:
  using StreamError::StreamError;
};

class PipeError : public StreamError {
 public:
  using StreamError::StreamError;
};

class TTYError : public StreamError {
 public:
  using StreamError::StreamError;
};

// The TLS library's reason is part of what(): "certificate verify failed",
// "wrong version number". Declared here, with its siblings, so that every
// stream can raise it; the TLS classes themselves are in evergreen/io/tls.h.
class TLSError : public StreamError {
 public:
  using StreamError::StreamError;
};

class UDPError : public std::system_error {
 public:
  using std::system_error::system_error;
  UDPError(int errno_value, const std::string& what)
      : std::system_error(errno_value, std::generic_category(), what) {}
};

class FileError : public std::system_error {
 public:
  using std::system_error::system_error;
  // An errno value and what failed ("evergreen: read /tmp/x"); what() adds
  // the errno's description ("evergreen: read /tmp/x: Is a directory").
  FileError(int errno_value, const std::string& what)
      : std::system_error(errno_value, std::generic_category(), what) {}
};

// The category of DNS failures: values are c-ares status codes (ARES_ENOTFOUND,
// ARES_ETIMEOUT, ...), messages are c-ares' descriptions.
const std::error_category& dns_category();

class DNSError : public std::system_error {
 public:
  using std::system_error::system_error;
  // A c-ares status and what failed ("evergreen: cannot resolve 'x.invalid'").
  DNSError(int ares_status, const std::string& what)
      : std::system_error(ares_status, dns_category(), what) {}

  // DNSError::not_found()
  //
  // True when the name does not exist or has no address (ARES_ENOTFOUND,
  // ARES_ENODATA): asking again will not help.
  bool not_found() const;

  // DNSError::timed_out()
  //
  // True when no name server answered in time (ARES_ETIMEOUT): the name may
  // exist, and a later lookup may succeed.
  bool timed_out() const;
};

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_ERRORS_H_
