// The system calls evergreen::io makes on the descriptors it reads, writes,
// connects and listens on, in one place so that the rest of the component
// states what it does, not how Linux spells it. Functions return an errno
// value (0 on success) or -1 with errno set, as documented on each; none
// throws. Calls on paths (pipe.cc's lstat/unlink of a socket file) and a
// terminal's own (tty.cc: isatty, termios, the window size) stay with the one
// class that makes them.
#ifndef EVERGREEN_IO_INTERNAL_FD_OPS_H_
#define EVERGREEN_IO_INTERNAL_FD_OPS_H_

#include <sys/types.h>

#include <cstddef>

#include "evergreen/io/address.h"
#include "evergreen/io/internal/socket_address.h"
#include "evergreen/io/internal/unique_fd.h"

namespace evergreen::io::internal {

// What kind of descriptor a stream runs on: decides how it writes and whether a
// short read proves the receive queue empty.
struct FdTraits {
  bool socket = false;         // send() with MSG_NOSIGNAL instead of write()
  bool stream_socket = false;  // SOCK_STREAM: a short read drained the queue
};

// fstat/getsockopt on `fd`; returns 0 or an errno value (EBADF for a bad fd).
int describe_fd(int fd, FdTraits* traits);

// A non-blocking, close-on-exec socket. Returns 0 or an errno value.
int open_socket(int family, int type, UniqueFd* out);

// Sets or clears O_NONBLOCK; returns 0 or an errno value. `previous`, when not
// null, receives the old file status flags.
int set_nonblocking(int fd, bool enable, int* previous = nullptr);

// Restores file status flags saved by set_nonblocking().
void restore_flags(int fd, int flags);

// read(): the byte count, 0 at end of file, or -1 with errno set.
ssize_t read_some(int fd, char* data, size_t size);

// listen(); returns 0 or an errno value.
int listen_on(int fd, int backlog);

// accept4() of one pending connection into `out`, non-blocking and
// close-on-exec. Returns 0 or an errno value (EAGAIN: none is pending).
int accept_connection(int listener, UniqueFd* out);

// shutdown(SHUT_WR): the peer reads end of file; returns 0 or an errno value.
int shut_down_writes(int fd);

// bind(); with `reuse_address`, sets SO_REUSEADDR first (best effort: lets a
// restarted server bind while old connections sit in TIME_WAIT). Returns 0 or
// an errno value.
int bind_socket(int fd, const SocketAddress& address, bool reuse_address = false);

// One connect() (retrying after EINTR is the caller's choice); returns 0 or an
// errno value (EINPROGRESS: a non-blocking socket is still connecting).
int connect_socket(int fd, const SocketAddress& address);

// SO_LINGER with a zero time, best effort: closing the socket then resets the
// connection and drops the bytes still queued for the peer.
void reset_on_close(int fd);

// One datagram to `to` (MSG_NOSIGNAL). Returns the byte count, or -1 with
// errno set.
ssize_t send_datagram(int fd, const char* data, size_t size, const SocketAddress& to);

// Receives one datagram into `data` and its sender into `from`. Returns the
// datagram's real length, which exceeds `size` when it did not fit (the kernel
// dropped the rest; `*truncated` is set then too), or -1 with errno set.
ssize_t receive_datagram(int fd, char* data, size_t size, SocketAddress* from, bool* truncated);

// Writes as much of `data` as the descriptor takes now. A peer that went away
// gives EPIPE, never SIGPIPE: sockets use MSG_NOSIGNAL, other descriptors block
// the signal around the write and discard the one it raised.
// Returns the byte count, or -1 with errno set.
ssize_t write_some(int fd, const char* data, size_t size, bool socket);

// The socket's local / remote address; an empty Address (and errno set) on
// failure.
Address local_address(int fd);
Address remote_address(int fd);

// SO_ERROR: the result of a non-blocking connect().
int pending_socket_error(int fd);

// setsockopt(TCP_NODELAY); returns 0 or an errno value.
int set_tcp_nodelay(int fd, bool enable);

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_FD_OPS_H_
