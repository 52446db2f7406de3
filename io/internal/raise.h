// Which exception type an I/O object throws (StreamError, TCPError, PipeError,
// TTYError, UDPError), and the one place that throws those types; DNSError and
// std::invalid_argument are thrown where they arise. Streams keep an ErrorKind rather than a
// virtual function so that a task woken after its stream was destroyed can still raise the right
// type without touching the stream.
#ifndef EVERGREEN_IO_INTERNAL_RAISE_H_
#define EVERGREEN_IO_INTERNAL_RAISE_H_

#include <cstdint>
#include <string>
#include <system_error>

namespace evergreen::io::internal {

enum class ErrorKind : uint8_t { kStream, kTCP, kPipe, kTTY, kUDP, kTLS };

// "TCP", "pipe", "TTY", "UDP", "TLS" or "" (for messages: "a closed TCP stream").
const char* kind_name(ErrorKind kind);

// Throws StreamError, TCPError, PipeError, TTYError, UDPError or TLSError.
[[noreturn]] void raise_error(ErrorKind kind, std::error_code code, const std::string& what);
[[noreturn]] void raise_error(ErrorKind kind, int errno_value, const std::string& what);

// Throws the kind's error for an operation that failed because this side
// closed the object: for streams, closed() is true and what() is `what` (which
// must say "closed"); for UDP, an EBADF UDPError.
[[noreturn]] void raise_closed_error(ErrorKind kind, const std::string& what);

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_RAISE_H_
