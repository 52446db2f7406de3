// StreamTransport: the byte layer under a BaseStream when its bytes are not the
// descriptor's own (TLS: the stream's data is the plaintext, the descriptor
// carries records). BaseStream keeps its buffers, its write turns, its
// back-pressure and its waits, and only asks the transport to move bytes.
//
// Contract, close to read(2)/send(2) on a non-blocking socket:
// - read() and write() return a byte count, or -1 with errno set. EAGAIN
//   means "wait and try again": wants_write() says for which direction of the
//   descriptor (a TLS read may have to send, for instance a key update).
// - A transport's short read does not prove the descriptor's queue empty, and
//   a short write does not prove the kernel's buffer full (one record per
//   call): BaseStream believes neither.
// - write() may hold back part of what it accepted (at most one record, as
//   the kernel's buffer would); holds_output() says so and flush_held() sends
//   it, EAGAIN when the descriptor is full.
// - shutdown_writes() ends the sending side (a TLS close_notify, then
//   SHUT_WR) without waiting for the peer: 0, or -1 with errno (EAGAIN: call
//   again when writable).
// - drained() says whether the last read() that returned bytes also left the
//   descriptor's receive queue empty, with nothing held back in the transport:
//   another read would only say EAGAIN, and whatever arrives later raises a
//   new readiness edge, so the stream waits without asking again (a plain
//   stream socket proves the same with a short read). False when unsure.
// - After a failure (-1 with an errno other than EAGAIN), failure_reason()
//   says what went wrong in the transport's own words ("certificate verify
//   failed"), or "" when errno says it all.
// Single-threaded: the stream's thread calls every member.
#ifndef EVERGREEN_IO_INTERNAL_STREAM_TRANSPORT_H_
#define EVERGREEN_IO_INTERNAL_STREAM_TRANSPORT_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace evergreen::io::internal {

class StreamTransport {
 public:
  virtual ~StreamTransport() = default;

  virtual ssize_t read(char* data, size_t size) = 0;
  virtual ssize_t write(const char* data, size_t size) = 0;
  virtual bool wants_write() const = 0;
  virtual bool drained() const { return false; }
  virtual bool holds_output() const = 0;
  virtual int flush_held() = 0;  // 0, or -1 with errno
  virtual int shutdown_writes() = 0;
  virtual std::string failure_reason() const = 0;
};

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_STREAM_TRANSPORT_H_
