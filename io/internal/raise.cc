#include "evergreen/io/internal/raise.h"

#include <cerrno>

#include "evergreen/io/errors.h"

namespace evergreen::io::internal {

const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kTCP:
      return "TCP";
    case ErrorKind::kPipe:
      return "pipe";
    case ErrorKind::kTTY:
      return "TTY";
    case ErrorKind::kUDP:
      return "UDP";
    case ErrorKind::kTLS:
      return "TLS";
    case ErrorKind::kStream:
      break;
  }
  return "";
}

void raise_error(ErrorKind kind, std::error_code code, const std::string& what) {
  switch (kind) {
    case ErrorKind::kTCP:
      throw TCPError(code, what);
    case ErrorKind::kPipe:
      throw PipeError(code, what);
    case ErrorKind::kTTY:
      throw TTYError(code, what);
    case ErrorKind::kUDP:
      throw UDPError(code, what);
    case ErrorKind::kTLS:
      throw TLSError(code, what);
    case ErrorKind::kStream:
      break;
  }
  throw StreamError(code, what);
}

void raise_error(ErrorKind kind, int errno_value, const std::string& what) {
  raise_error(kind, std::error_code(errno_value, std::generic_category()), what);
}

void raise_closed_error(ErrorKind kind, const std::string& what) {
  constexpr StreamError::ClosedByThisSide closed;
  switch (kind) {
    case ErrorKind::kTCP:
      throw TCPError(closed, what);
    case ErrorKind::kPipe:
      throw PipeError(closed, what);
    case ErrorKind::kTTY:
      throw TTYError(closed, what);
    case ErrorKind::kUDP:
      throw UDPError(EBADF, what);
    case ErrorKind::kTLS:
      throw TLSError(closed, what);
    case ErrorKind::kStream:
      break;
  }
  throw StreamError(closed, what);
}

}  // namespace evergreen::io::internal
