#include "evergreen/io/internal/fd_ops.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace evergreen::io::internal {

int describe_fd(int fd, FdTraits* traits) {
  struct stat info;
  if (fstat(fd, &info) != 0) return errno;
  *traits = FdTraits{};
  if (!S_ISSOCK(info.st_mode)) return 0;
  traits->socket = true;
  int type = 0;
  socklen_t length = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0) {
    traits->stream_socket = type == SOCK_STREAM;
  }
  return 0;
}

int open_socket(int family, int type, UniqueFd* out) {
  int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  out->reset(fd);
  return 0;
}

int set_nonblocking(int fd, bool enable, int* previous) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return errno;
  if (previous != nullptr) *previous = flags;
  int wanted = enable ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && fcntl(fd, F_SETFL, wanted) != 0) return errno;
  return 0;
}

void restore_flags(int fd, int flags) { fcntl(fd, F_SETFL, flags); }

ssize_t read_some(int fd, char* data, size_t size) { return ::read(fd, data, size); }

int listen_on(int fd, int backlog) { return ::listen(fd, backlog) == 0 ? 0 : errno; }

int accept_connection(int listener, UniqueFd* out) {
  int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return errno;
  out->reset(fd);
  return 0;
}

int shut_down_writes(int fd) { return ::shutdown(fd, SHUT_WR) == 0 ? 0 : errno; }

int bind_socket(int fd, const SocketAddress& address, bool reuse_address) {
  if (reuse_address) {
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  }
  return ::bind(fd, address.get(), address.length) == 0 ? 0 : errno;
}

int connect_socket(int fd, const SocketAddress& address) {
  return ::connect(fd, address.get(), address.length) == 0 ? 0 : errno;
}

void reset_on_close(int fd) {
  struct linger reset {
    .l_onoff = 1, .l_linger = 0
  };
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
}

ssize_t send_datagram(int fd, const char* data, size_t size, const SocketAddress& to) {
  return ::sendto(fd, data, size, MSG_NOSIGNAL, to.get(), to.length);
}

ssize_t receive_datagram(int fd, char* data, size_t size, SocketAddress* from, bool* truncated) {
  iovec buffer{data, size};
  msghdr message{};
  message.msg_name = from->get();
  message.msg_namelen = sizeof from->storage;
  message.msg_iov = &buffer;
  message.msg_iovlen = 1;
  // MSG_TRUNC: the result is the datagram's real length, even when it is
  // longer than the buffer.
  ssize_t count = ::recvmsg(fd, &message, MSG_TRUNC);
  if (count < 0) return count;
  from->length = message.msg_namelen;
  *truncated = (message.msg_flags & MSG_TRUNC) != 0 || static_cast<size_t>(count) > size;
  return count;
}

ssize_t write_some(int fd, const char* data, size_t size, bool socket) {
  if (socket) return ::send(fd, data, size, MSG_NOSIGNAL);
  // A pipe or terminal has no MSG_NOSIGNAL: block SIGPIPE for this thread
  // around the write, and if the write raised one (EPIPE) take it back, unless
  // one was already pending before we started.
  sigset_t pipe_only, old_mask, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
  ssize_t written = ::write(fd, data, size);
  int saved_errno = errno;
  if (written < 0 && saved_errno == EPIPE && !was_pending) {
    timespec zero{};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = saved_errno;
  return written;
}

Address local_address(int fd) {
  SocketAddress address;
  address.length = sizeof address.storage;
  if (getsockname(fd, address.get(), &address.length) != 0) return Address{};
  return to_address(address.get(), address.length);
}

Address remote_address(int fd) {
  SocketAddress address;
  address.length = sizeof address.storage;
  if (getpeername(fd, address.get(), &address.length) != 0) return Address{};
  return to_address(address.get(), address.length);
}

int pending_socket_error(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

int set_tcp_nodelay(int fd, bool enable) {
  int value = enable ? 1 : 0;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, sizeof value) != 0) return errno;
  return 0;
}

}  // namespace evergreen::io::internal
