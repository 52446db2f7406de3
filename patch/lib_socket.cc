// evergreen::lib::socket: libc's socket and pipe calls, cooperative in tasks.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstring>
#include <optional>

#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/poller.h"
#include "evergreen/patch/internal/blocking_call.h"
#include "evergreen/patch/internal/cooperative_wait.h"
#include "evergreen/patch/internal/fd_state.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"

namespace evergreen::lib::socket {
namespace {

namespace original = patch::original;
using internal::kPollIn;
using internal::kPollOut;
using patch_internal::BlockingCall;
using patch_internal::Direction;
using patch_internal::FdInfo;
using patch_internal::FdKind;
using patch_internal::FdTable;
using patch_internal::IovCursor;
using patch_internal::Route;
using patch_internal::route_call;
using patch_internal::run_file_call;
using patch_internal::SavedErrno;
using patch_internal::send_everything;
using patch_internal::would_block;

// A task's call on a regular file, as io::File makes it (see run_file_call()).
// Longer transfers are cut to one call's maximum: the caller of read(2) and
// friends handles a short count.
io::internal::FileCall file_call(io::internal::FileCall::Kind kind, int fd, const void* buffer,
                                 size_t count, off_t offset) {
  io::internal::FileCall call;
  call.kind = kind;
  call.fd = fd;
  call.buffer = const_cast<void*>(buffer);  // only read from, for a write
  call.length = count < io::internal::kMaxFileTransfer ? count : io::internal::kMaxFileTransfer;
  call.offset = offset;
  return call;
}

// MSG_WAITALL asks for the whole buffer only on stream sockets; a datagram
// socket returns one datagram whatever the flag.
bool waits_for_all(int fd, int flags) {
  if ((flags & MSG_WAITALL) == 0) return false;
  int saved_errno = errno;
  int type = 0;
  socklen_t length = sizeof type;
  bool stream = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 && type == SOCK_STREAM;
  errno = saved_errno;
  return stream;
}

// One receive that waits until something arrives, then, for MSG_WAITALL on a
// stream, keeps receiving until `total` bytes, end of file or an error.
// attempt(done) receives at offset `done`. `name`: the libc call, for
// diagnostics.
template <class Attempt>
ssize_t receive(const char* name, int fd, const Route& route, size_t total, bool all,
                Attempt attempt) {
  BlockingCall call(name, fd, route.task, kPollIn, Direction::kReceive);
  SavedErrno saved;
  size_t done = 0;
  for (;;) {
    ssize_t got = attempt(done);
    if (got > 0) {
      done += static_cast<size_t>(got);
      if (!all || done >= total) return saved.restore(static_cast<ssize_t>(done));
      continue;
    }
    if (got == 0) return saved.restore(static_cast<ssize_t>(done));  // end of file
    if (!would_block(errno) || !call.wait()) {
      return done > 0 ? saved.restore(static_cast<ssize_t>(done)) : -1;
    }
  }
}

// accept4() that waits for a connection; a task's new socket is made
// non-blocking underneath from the start.
int accept_connection(int fd, sockaddr* address, socklen_t* length, int flags) {
  Route route = route_call(fd, false);
  int extra = route.task != nullptr ? SOCK_NONBLOCK : 0;
  int accepted;
  if (!route.blocking) {
    accepted = original::accept4(fd, address, length, flags | extra);
  } else {
    BlockingCall call("accept", fd, route.task, kPollIn, Direction::kReceive);
    SavedErrno saved;
    for (;;) {
      accepted = saved.restore(original::accept4(fd, address, length, flags | extra));
      if (accepted >= 0 || !would_block(errno) || !call.wait()) break;
    }
  }
  if (accepted >= 0) {
    if (route.task != nullptr) {
      FdTable::created(accepted, (flags & SOCK_NONBLOCK) != 0, true);
    } else {
      FdTable::forget(accepted);
    }
  }
  return accepted;
}

// The duration a SO_RCVTIMEO/SO_SNDTIMEO value stands for.
Duration timeval_duration(const void* value) {
  timeval time{};
  std::memcpy(&time, value, sizeof time);
  return std::chrono::seconds(time.tv_sec) + std::chrono::microseconds(time.tv_usec);
}

}  // namespace

int socket(int domain, int type, int protocol) {
  if (patch_internal::current_task() == nullptr) {
    int fd = original::socket(domain, type, protocol);
    if (fd >= 0) FdTable::forget(fd);
    return fd;
  }
  int fd = original::socket(domain, type | SOCK_NONBLOCK, protocol);
  if (fd >= 0) FdTable::created(fd, (type & SOCK_NONBLOCK) != 0, true);
  return fd;
}

int connect(int fd, const sockaddr* address, socklen_t length) {
  Route route = route_call(fd, false);
  if (!route.blocking) return original::connect(fd, address, length);
  BlockingCall call("connect", fd, route.task, kPollOut, Direction::kSend);
  SavedErrno saved;
  for (;;) {
    int result = original::connect(fd, address, length);
    if (result == 0) return 0;
    if (errno == EINPROGRESS) break;
    // A Unix socket whose listener's backlog is full: a blocking connect
    // waits for room, which no readiness event announces; try again shortly.
    if (!would_block(errno)) return -1;
    if (route.task != nullptr) {
      patch_internal::CooperativeWait pause(*route.task, patch_internal::Interrupt::kWhilePending);
      pause.set_deadline(::evergreen::internal::loop_now() + std::chrono::milliseconds(1));
      if (pause.wait() == patch_internal::WaitOutcome::kInterrupted) {
        errno = patch_internal::interrupted_errno(*route.task);
        return -1;
      }
    } else {
      original::usleep(1000);
    }
  }
  // In progress: the blocking call returns once the handshake is over.
  if (!call.wait(EINPROGRESS)) return -1;
  int error = 0;
  socklen_t error_length = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_length) != 0) return -1;
  if (error != 0) {
    errno = error;
    return -1;
  }
  return saved.restore(0);
}

int accept(int fd, sockaddr* address, socklen_t* length) {
  return accept_connection(fd, address, length, 0);
}

int accept4(int fd, sockaddr* address, socklen_t* length, int flags) {
  return accept_connection(fd, address, length, flags);
}

ssize_t read(int fd, void* buffer, size_t count) {
  Route route = route_call(fd, false);
  if (route.regular_file) {
    return run_file_call(*route.task,
                         file_call(io::internal::FileCall::Kind::kRead, fd, buffer, count, -1));
  }
  if (!route.blocking) return original::read(fd, buffer, count);
  return receive("read", fd, route, count, false,
                 [&](size_t) { return original::read(fd, buffer, count); });
}

ssize_t readv(int fd, const iovec* vector, int count) {
  Route route = route_call(fd, false);
  if (!route.blocking) return original::readv(fd, vector, count);
  return receive("readv", fd, route, 0, false,
                 [&](size_t) { return original::readv(fd, vector, count); });
}

ssize_t recv(int fd, void* buffer, size_t length, int flags) {
  Route route = route_call(fd, (flags & MSG_DONTWAIT) != 0);
  if (!route.blocking) return original::recv(fd, buffer, length, flags);
  return receive("recv", fd, route, length, waits_for_all(fd, flags), [&](size_t done) {
    return original::recv(fd, static_cast<char*>(buffer) + done, length - done, flags);
  });
}

ssize_t recvfrom(int fd, void* buffer, size_t length, int flags, sockaddr* address,
                 socklen_t* address_length) {
  Route route = route_call(fd, (flags & MSG_DONTWAIT) != 0);
  if (!route.blocking) {
    return original::recvfrom(fd, buffer, length, flags, address, address_length);
  }
  return receive("recvfrom", fd, route, length, waits_for_all(fd, flags), [&](size_t done) {
    // The sender's address comes with the first bytes only.
    return original::recvfrom(fd, static_cast<char*>(buffer) + done, length - done, flags,
                              done == 0 ? address : nullptr, done == 0 ? address_length : nullptr);
  });
}

ssize_t recvmsg(int fd, msghdr* message, int flags) {
  Route route = route_call(fd, (flags & MSG_DONTWAIT) != 0);
  if (!route.blocking) return original::recvmsg(fd, message, flags);
  bool all = waits_for_all(fd, flags);
  size_t total =
      all ? IovCursor::total(message->msg_iov, static_cast<int>(message->msg_iovlen)) : 0;
  std::optional<IovCursor> rest;
  size_t consumed = 0;  // how far `rest` has been advanced
  return receive("recvmsg", fd, route, total, all, [&](size_t done) -> ssize_t {
    if (done == 0) return original::recvmsg(fd, message, flags);
    // Finishing MSG_WAITALL: the rest of the buffers, without the address and
    // ancillary data already received.
    if (!rest && !IovCursor::start(rest, message->msg_iov, static_cast<int>(message->msg_iovlen))) {
      return -1;
    }
    rest->advance(done - consumed);
    consumed = done;
    msghdr more{};
    more.msg_iov = rest->data();
    more.msg_iovlen = static_cast<size_t>(rest->count());
    return original::recvmsg(fd, &more, flags);
  });
}

ssize_t write(int fd, const void* buffer, size_t count) {
  Route route = route_call(fd, false);
  if (route.regular_file) {
    return run_file_call(*route.task,
                         file_call(io::internal::FileCall::Kind::kWrite, fd, buffer, count, -1));
  }
  if (!route.blocking) return original::write(fd, buffer, count);
  BlockingCall call("write", fd, route.task, kPollOut, Direction::kSend);
  return send_everything(call, count, [&](size_t done) {
    return original::write(fd, static_cast<const char*>(buffer) + done, count - done);
  });
}

ssize_t writev(int fd, const iovec* vector, int count) {
  Route route = route_call(fd, false);
  if (!route.blocking) return original::writev(fd, vector, count);
  BlockingCall call("writev", fd, route.task, kPollOut, Direction::kSend);
  size_t total = IovCursor::total(vector, count);
  std::optional<IovCursor> rest;
  size_t consumed = 0;  // how far `rest` has been advanced
  return send_everything(call, total, [&](size_t done) -> ssize_t {
    if (done == 0) return original::writev(fd, vector, count);
    if (!rest && !IovCursor::start(rest, vector, count)) return -1;
    rest->advance(done - consumed);
    consumed = done;
    return original::writev(fd, rest->data(), rest->count());
  });
}

ssize_t send(int fd, const void* buffer, size_t length, int flags) {
  Route route = route_call(fd, (flags & MSG_DONTWAIT) != 0);
  if (!route.blocking) return original::send(fd, buffer, length, flags);
  BlockingCall call("send", fd, route.task, kPollOut, Direction::kSend);
  return send_everything(call, length, [&](size_t done) {
    return original::send(fd, static_cast<const char*>(buffer) + done, length - done, flags);
  });
}

ssize_t sendto(int fd, const void* buffer, size_t length, int flags, const sockaddr* address,
               socklen_t address_length) {
  Route route = route_call(fd, (flags & MSG_DONTWAIT) != 0);
  if (!route.blocking) {
    return original::sendto(fd, buffer, length, flags, address, address_length);
  }
  BlockingCall call("sendto", fd, route.task, kPollOut, Direction::kSend);
  return send_everything(call, length, [&](size_t done) {
    return original::sendto(fd, static_cast<const char*>(buffer) + done, length - done, flags,
                            address, address_length);
  });
}

ssize_t sendmsg(int fd, const msghdr* message, int flags) {
  Route route = route_call(fd, (flags & MSG_DONTWAIT) != 0);
  if (!route.blocking) return original::sendmsg(fd, message, flags);
  BlockingCall call("sendmsg", fd, route.task, kPollOut, Direction::kSend);
  int count = static_cast<int>(message->msg_iovlen);
  size_t total = IovCursor::total(message->msg_iov, count);
  std::optional<IovCursor> rest;
  size_t consumed = 0;
  return send_everything(call, total, [&](size_t done) -> ssize_t {
    if (done == 0) return original::sendmsg(fd, message, flags);
    // The rest of the data, without the ancillary data (file descriptors
    // passed with SCM_RIGHTS must go once).
    if (!rest && !IovCursor::start(rest, message->msg_iov, count)) return -1;
    rest->advance(done - consumed);
    consumed = done;
    msghdr more{};
    more.msg_name = message->msg_name;
    more.msg_namelen = message->msg_namelen;
    more.msg_iov = rest->data();
    more.msg_iovlen = static_cast<size_t>(rest->count());
    return original::sendmsg(fd, &more, flags);
  });
}

ssize_t pread(int fd, void* buffer, size_t count, off_t offset) {
  Route route = route_call(fd, false);
  // A negative offset goes to libc, which refuses it (EINVAL); to io_uring
  // -1 would mean the file offset.
  if (route.regular_file && offset >= 0) {
    return run_file_call(*route.task,
                         file_call(io::internal::FileCall::Kind::kRead, fd, buffer, count, offset));
  }
  return original::pread(fd, buffer, count, offset);
}

ssize_t pwrite(int fd, const void* buffer, size_t count, off_t offset) {
  Route route = route_call(fd, false);
  if (route.regular_file && offset >= 0) {
    return run_file_call(
        *route.task, file_call(io::internal::FileCall::Kind::kWrite, fd, buffer, count, offset));
  }
  return original::pwrite(fd, buffer, count, offset);
}

int close(int fd) {
  patch_internal::forget_fd_before_close(fd);
  FdTable::forget(fd);
  return original::close(fd);
}

int fcntl(int fd, int command, ...) {
  va_list arguments;
  va_start(arguments, command);
  void* argument = va_arg(arguments, void*);
  va_end(arguments);
  switch (command) {
    case F_GETFL: {
      int flags = original::fcntl(fd, F_GETFL);
      FdInfo info = FdTable::lookup(fd);
      if (flags < 0 || info.kind != FdKind::kCooperative) return flags;
      return (flags & ~O_NONBLOCK) | (info.user_nonblocking ? O_NONBLOCK : 0);
    }
    case F_SETFL: {
      int flags = static_cast<int>(reinterpret_cast<intptr_t>(argument));
      if (FdTable::lookup(fd).kind != FdKind::kCooperative) {
        return original::fcntl(fd, F_SETFL, flags);
      }
      // Underneath it stays non-blocking; the program's choice is recorded.
      int result = original::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
      if (result == 0) FdTable::set_user_nonblocking(fd, (flags & O_NONBLOCK) != 0);
      return result;
    }
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      int duplicate = original::fcntl(fd, command, argument);
      if (duplicate >= 0) FdTable::copy(fd, duplicate);
      return duplicate;
    }
    default:
      return original::fcntl(fd, command, argument);
  }
}

int ioctl(int fd, unsigned long request, ...) {
  va_list arguments;
  va_start(arguments, request);
  void* argument = va_arg(arguments, void*);
  va_end(arguments);
  if (request != FIONBIO || FdTable::lookup(fd).kind != FdKind::kCooperative) {
    return original::ioctl(fd, request, argument);
  }
  // Let the kernel validate the fd and the pointer first, then keep the fd
  // non-blocking underneath and record what the program asked for.
  int result = original::ioctl(fd, FIONBIO, argument);
  if (result != 0) return result;
  bool nonblocking = *static_cast<const int*>(argument) != 0;
  if (!nonblocking) {
    int one = 1;
    original::ioctl(fd, FIONBIO, &one);
  }
  FdTable::set_user_nonblocking(fd, nonblocking);
  return 0;
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t length) {
  int result = original::setsockopt(fd, level, name, value, length);
  if (result == 0 && level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO) &&
      value != nullptr && length >= sizeof(timeval)) {
    FdTable::set_timeout(fd, name == SO_RCVTIMEO ? Direction::kReceive : Direction::kSend,
                         timeval_duration(value));
  }
  return result;
}

int dup(int fd) {
  int duplicate = original::dup(fd);
  if (duplicate >= 0) FdTable::copy(fd, duplicate);
  return duplicate;
}

int dup2(int fd, int target) {
  if (fd == target) return original::dup2(fd, target);
  patch_internal::forget_fd_before_close(target);  // dup2 closes `target` first
  int result = original::dup2(fd, target);
  if (result >= 0) FdTable::copy(fd, target);
  return result;
}

int dup3(int fd, int target, int flags) {
  if (fd == target) return original::dup3(fd, target, flags);  // EINVAL
  patch_internal::forget_fd_before_close(target);
  int result = original::dup3(fd, target, flags);
  if (result >= 0) FdTable::copy(fd, target);
  return result;
}

}  // namespace evergreen::lib::socket
