// The shape every cooperative socket call shares: decide whether the call
// needs blocking semantics on an fd that is non-blocking underneath, and if
// so, wait between non-blocking attempts the way the blocking call would
// have - parking the task inside a task, blocking the thread in poll(2)
// anywhere else - bounded by the socket's SO_RCVTIMEO/SO_SNDTIMEO.
//
//   Route route = route_call(fd, flags & MSG_DONTWAIT);
//   if (!route.blocking) return original::recv(fd, buffer, length, flags);
//   BlockingCall call("recv", fd, route.task, internal::kPollIn, Direction::kReceive);
//   for (;;) {
//     ssize_t got = original::recv(fd, buffer, length, flags);
//     if (got >= 0 || !would_block(errno)) return got;
//     if (!call.wait()) return -1;   // errno: EAGAIN, ETIMEDOUT, ECANCELED, EBADF...
//   }
#ifndef EVERGREEN_PATCH_INTERNAL_BLOCKING_CALL_H_
#define EVERGREEN_PATCH_INTERNAL_BLOCKING_CALL_H_

#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <vector>

#include "evergreen/io/internal/file_call.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/patch/internal/fd_state.h"

namespace evergreen::patch_internal {

inline bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

// errno as the caller had it. libc's calls leave errno alone when they
// succeed, so a blocking call that succeeds after waiting must not leave
// behind the EAGAIN of its non-blocking attempts.
class SavedErrno {
 public:
  // Returns `result`, restoring errno first if it is a success (>= 0).
  template <class Result>
  Result restore(Result result) const {
    if (result >= 0) errno = saved_;
    return result;
  }

 private:
  int saved_ = errno;
};

struct Route {
  // The call must emulate blocking (the fd is non-blocking underneath, the
  // program's flag is not, and the call did not ask for MSG_DONTWAIT).
  bool blocking = false;
  // The task making the call, or null outside tasks.
  internal::BlockingContext* task = nullptr;
  // A task's call on a regular file: it goes to io's file path
  // (run_file_call()) instead.
  bool regular_file = false;
};

// Classifies `fd` (adopting it on a task's first use) and routes the call.
// Preserves errno.
Route route_call(int fd, bool nonblocking_call);

// Performs `call` (read, write, pread or pwrite on a regular file: one
// system call) the way io::File does (io/internal/file_call.h: an io_uring
// operation on that backend, io's file pool on epoll) while `task` parks,
// so that only the task waits; returns its result, or -1 with errno. A kill
// or Timeout delivered meanwhile does not cut it short (the call completes)
// and is not raised (no exception may unwind through C frames): it stays
// pending, kept (internal::keep_pending), for the task's next suspension
// point. With one already pending, or if the call cannot be queued, it runs
// on this thread instead, blocking it as libc's would.
ssize_t run_file_call(internal::BlockingContext& task, const io::internal::FileCall& call);

class BlockingCall {
 public:
  // `name`: the libc call ("recv"), a string literal; a task waiting in it
  // shows it as what it waits on (evergreen/loop/debug.h). `events`: kPollIn
  // or kPollOut. The deadline (from the socket timeout for `direction`)
  // starts at the first wait and spans the whole call.
  BlockingCall(const char* name, int fd, internal::BlockingContext* task, uint32_t events,
               Direction direction)
      : name_(name), fd_(fd), task_(task), events_(events), direction_(direction) {}

  // After an attempt failed with EAGAIN: waits until the fd is ready and
  // returns true (try again), or returns false with errno set as the blocking
  // call would fail - `timeout_errno` (EAGAIN; EINPROGRESS for connect) when
  // the socket timeout passes, ETIMEDOUT when a Timeout and ECANCELED when a
  // kill was delivered to the task, EBADF when the fd was closed meanwhile, EINTR when a signal
  // interrupted poll(2) outside a task.
  bool wait(int timeout_errno = EAGAIN);

 private:
  const char* name_;
  int fd_;
  internal::BlockingContext* task_;
  uint32_t events_;
  Direction direction_;
  bool deadline_known_ = false;
  std::optional<TimePoint> deadline_;
};

// Sends `total` bytes with repeated attempts, as a blocking send does:
// attempt(done) tries to send from offset `done` and returns the count or -1
// with errno. Returns the bytes sent (short only if a wait failed after some
// were sent) or -1 with errno.
template <class Attempt>
ssize_t send_everything(BlockingCall& call, size_t total, Attempt attempt) {
  SavedErrno saved;
  size_t done = 0;
  do {
    ssize_t sent = attempt(done);
    if (sent > 0) {
      done += static_cast<size_t>(sent);
      continue;
    }
    if (sent == 0) break;  // nothing more will go (a zero-length datagram, or done)
    if (!would_block(errno) || !call.wait()) {
      return done > 0 ? saved.restore(static_cast<ssize_t>(done)) : -1;
    }
  } while (done < total);
  return saved.restore(static_cast<ssize_t>(done));
}

// An iovec array with a moving start, for finishing a partial readv/writev/
// sendmsg/recvmsg. Copies the caller's array (which it must not modify).
class IovCursor {
 public:
  IovCursor(const iovec* vectors, int count)
      : vectors_(vectors, vectors + (count > 0 ? count : 0)) {}

  // Makes `out` a cursor over the array; false with errno ENOMEM if the copy
  // cannot be allocated (the calls using it must not throw).
  static bool start(std::optional<IovCursor>& out, const iovec* vectors, int count) {
    try {
      out.emplace(vectors, count);
      return true;
    } catch (const std::bad_alloc&) {
      errno = ENOMEM;
      return false;
    }
  }

  static size_t total(const iovec* vectors, int count) {
    size_t sum = 0;
    for (int i = 0; i < count; ++i) sum += vectors[i].iov_len;
    return sum;
  }

  // Skips `bytes` from the front.
  void advance(size_t bytes) {
    while (bytes > 0 && first_ < vectors_.size()) {
      iovec& front = vectors_[first_];
      size_t step = bytes < front.iov_len ? bytes : front.iov_len;
      front.iov_base = static_cast<char*>(front.iov_base) + step;
      front.iov_len -= step;
      bytes -= step;
      if (front.iov_len == 0) ++first_;
    }
    while (first_ < vectors_.size() && vectors_[first_].iov_len == 0) ++first_;
  }

  iovec* data() { return vectors_.data() + first_; }
  int count() const { return static_cast<int>(vectors_.size() - first_); }

 private:
  std::vector<iovec> vectors_;
  size_t first_ = 0;
};

}  // namespace evergreen::patch_internal

#endif  // EVERGREEN_PATCH_INTERNAL_BLOCKING_CALL_H_
