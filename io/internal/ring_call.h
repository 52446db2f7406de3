// One socket system call performed by the loop's io_uring (a KernelOperation
// of kind kRecv, kSend, kAccept, kConnect, kRecvMsg or kSendMsg) instead of a
// readiness wait followed by a non-blocking call. The stream, server, client
// and UDP code call perform_ring_call() where they would wait on their
// IoWatcher, and only when the loop performs operations
// (Scheduler::performs_operations(), the io_uring backend): on epoll nothing
// here runs.
//
// Cancellation. The kernel writes into (or reads from) the operation's buffer
// and holds the fd's file until the completion arrives, so nothing the
// operation names may go before then:
// - A kill or Timeout delivered to the waiting context cancels the operation
//   (IORING_OP_ASYNC_CANCEL); the context keeps waiting for the completion -
//   which may still carry a result, data received or bytes sent - and the
//   call returns it with `interrupted` set. The caller keeps what the result
//   says happened, then raises the delivery (raise_pending()).
// - The owner's close() or destruction (IoWatcher::detach() and its
//   destructor, which run before the fd is closed and the buffers freed)
//   cancels every call in flight on the watcher and blocks the thread until
//   each has completed: one system call, since the kernel cancels a waiting
//   socket operation at once. The woken caller finds the owner closed, or
//   `state` kDestroyed and must then not touch the owner.
// - A loop being destroyed (its queue closed) no longer polls: the call then
//   cancels and waits for its completion outright.
#ifndef EVERGREEN_IO_INTERNAL_RING_CALL_H_
#define EVERGREEN_IO_INTERNAL_RING_CALL_H_

#include <cstddef>
#include <cstdint>

#include "evergreen/io/internal/io_watcher.h"
#include "evergreen/loop/internal/kernel_operation.h"

namespace evergreen::io::internal {

// The most one call asks for (an io_uring length is 32 bits).
inline constexpr size_t kMaxRingTransfer = size_t{1} << 30;

struct RingRequest {
  evergreen::internal::KernelOperation::Kind kind;
  int fd = -1;
  void* buffer = nullptr;  // see KernelOperation::Kind for what each kind expects
  uint32_t length = 0;
};

struct RingOutcome {
  // What the system call returned (bytes, a new fd, 0) or a negative errno;
  // -ECANCELED when the cancellation came first.
  int32_t result = 0;
  // A kill or Timeout is pending on the caller: raise it (raise_pending())
  // once the result is accounted for.
  bool interrupted = false;
  // kDestroyed: the watcher's owner was destroyed meanwhile; do not touch it.
  WaitResult state = WaitResult::kWoken;
};

// Performs `request` on the loop of `watcher` (attached, on a loop that
// performs operations) while the calling context parks, labelled `label` for
// diagnostics. Raises a kill or Timeout already pending before anything is
// submitted; afterwards never raises one (see RingOutcome::interrupted).
// Throws std::system_error if the ring refuses the submission, and
// std::runtime_error when the watcher's loop is gone or inside a loop callback.
RingOutcome perform_ring_call(IoWatcher& watcher, const RingRequest& request, const char* label);

// Raises the kill or Timeout that interrupted the call, if one did
// (outcome.interrupted). Call it once the caller has kept what the result
// says happened.
void raise_if_interrupted(const RingOutcome& outcome);

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_RING_CALL_H_
