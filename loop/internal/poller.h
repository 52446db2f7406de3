// The loop's readiness backend, behind one interface with two
// implementations: EpollPoller (poller_epoll.h) and IoUringPoller
// (poller_io_uring.h). Only those file pairs talk to the kernel's readiness
// interfaces; open_backend() (backend_selection.h) picks and builds one. Only
// the fd registry (fd_registry.h) and the loop's own fds (its wake-up eventfd,
// the signal pipe) register here.
//
// The kPoll* bits are evergreen's own; each backend converts to and from the
// kernel's. Calls through the interface are virtual: a registration is added
// once per fd (edge-triggered entries stay for the fd's life) and poll() is
// called once per loop iteration, so no per-read or per-write path pays for
// the indirection.
//
// Each registration gets a token made of a slot index and a generation. An
// event whose registration was removed (perhaps the fd closed and reused)
// while the event sat in the same batch is dropped, as Go's netpoller does
// with its sequence numbers.
#ifndef EVERGREEN_LOOP_INTERNAL_POLLER_H_
#define EVERGREEN_LOOP_INTERNAL_POLLER_H_

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <system_error>

#include "evergreen/loop/internal/kernel_operation.h"

namespace evergreen::internal {

// Readiness bits (evergreen's, not the kernel's).
inline constexpr uint32_t kPollIn = 1u << 0;
inline constexpr uint32_t kPollPriority = 1u << 1;  // urgent data (poll's POLLPRI)
inline constexpr uint32_t kPollOut = 1u << 2;
inline constexpr uint32_t kPollError = 1u << 3;
inline constexpr uint32_t kPollHangUp = 1u << 4;
inline constexpr uint32_t kPollPeerClosed = 1u << 5;  // the peer shut down its writing side
// A request bit, never reported: one event per readiness change rather than
// one per poll while the fd stays ready.
inline constexpr uint32_t kPollEdgeTriggered = 1u << 6;

class PollHandler {
 public:
  virtual ~PollHandler() = default;
  // Called on the loop fiber with the ready bits (kPoll*).
  virtual void on_poll_events(uint32_t events) = 0;
};

class Poller {
 public:
  using Token = uint64_t;

  virtual ~Poller() = default;

  // Watches `fd` for `events`. Throws std::system_error: EBADF, EEXIST, or
  // EPERM for an fd that never blocks (a regular file, a directory).
  virtual Token add(int fd, uint32_t events, PollHandler* handler) = 0;
  // Changes what `fd` is watched for. Throws std::system_error. If `fd` was
  // closed and its number reused, either the registration now follows the
  // new file (io_uring) or this throws ENOENT (epoll: the kernel dropped the
  // registration with the old file); FdRegistry handles both.
  virtual void modify(Token token, int fd, uint32_t events) = 0;
  // Stops watching; once it returns no event of the registration is
  // delivered and the kernel holds no reference to the file through it. Safe
  // if `fd` was already closed.
  virtual void remove(Token token, int fd) = 0;

  // Sends whatever the backend queued, waits at most `timeout_ms` (-1: no
  // limit, 0: just look) and dispatches the events to their handlers.
  // Returns the number of events dispatched.
  virtual int poll(int timeout_ms) = 0;

  // Whether the backend performs KernelOperations itself (io_uring). When
  // false, submit_operation() and finish_operations() must not be called:
  // the caller runs the system call elsewhere (io's file pool).
  virtual bool performs_operations() const { return false; }

  // Queues `operation` (see kernel_operation.h for how long it must live);
  // it is sent with the next poll() - one system call for everything queued
  // in a loop iteration - and its on_complete() runs in a later poll().
  // Throws std::system_error if the submission queue stays full.
  virtual void submit_operation(KernelOperation&) {
    throw std::system_error(ENOTSUP, std::generic_category(),
                            "evergreen: this backend performs no file operations itself");
  }

  // Asks the kernel to cancel `operation` (in flight) and sends the request
  // at once, before the caller may close the operation's fd. The operation
  // still completes (see kernel_operation.h); wait for that before its memory
  // goes. Does nothing once it has completed.
  virtual void cancel_operation(KernelOperation&) {}

  // Blocks the thread until `operation` has completed (running its
  // on_complete()), delivering other operations' completions on the way and
  // keeping readiness events for the next poll(). For a cancelled operation
  // this is one system call: the kernel cancels a waiting socket operation at
  // once.
  virtual void finish_operation(KernelOperation&) {}

  // How many operations of `kind` were submitted on this poller (a statistic
  // for tests and diagnostics: which path a call took).
  uint64_t operations_submitted(KernelOperation::Kind kind) const {
    return submitted_[static_cast<int>(kind)];
  }

  // Blocks the thread until every operation submitted so far has completed,
  // running their on_complete(); readiness events that arrive meanwhile are
  // kept for the next poll(). For a caller that can no longer wait by
  // parking (its loop is being destroyed, or stopped) but must not let its
  // buffer go while the kernel may still use it.
  virtual void finish_operations() {}

  // Number of live registrations and operations in flight: while it is
  // above the loop's own wake-up registration, poll() has work to do even
  // with a zero timeout.
  size_t size() const { return live_; }

 protected:
  size_t live_ = 0;
  uint64_t submitted_[KernelOperation::kKinds] = {};
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_POLLER_H_
