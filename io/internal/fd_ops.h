// The system calls evergreen::io makes on descriptors, in one place so that
// the rest of the component states what it does, not how Linux spells it.
// Functions return an errno value (0 on success) or -1 with errno set, as
// documented on each; none throws.
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
