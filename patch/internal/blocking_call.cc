#include "evergreen/patch/internal/blocking_call.h"

#include <poll.h>

#include <chrono>
#include <exception>
#include <new>

#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/patch/internal/cooperative_wait.h"
#include "evergreen/patch/patch.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen::patch_internal {
namespace {

// Outside tasks: block the thread in poll(2), as the blocking call would.
WaitOutcome block_thread(int fd, uint32_t events, std::optional<TimePoint> deadline) {
  pollfd entry{fd, static_cast<short>(events), 0};
  for (;;) {
    int timeout_ms = -1;
    if (deadline) {
      auto left = *deadline - ::evergreen::internal::loop_now();
      if (left <= Duration::zero()) return WaitOutcome::kTimedOut;
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
      timeout_ms = ms > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(ms);
    }
    int ready = patch::original::poll(&entry, 1, timeout_ms);
    if (ready > 0) return WaitOutcome::kReady;
    if (ready < 0) return WaitOutcome::kFailed;  // EINTR: a signal interrupts it, as libc's
  }
}

WaitOutcome park_task(internal::BlockingContext& task, int fd, uint32_t events,
                      std::optional<TimePoint> deadline) {
  try {
    CooperativeWait wait(task, Interrupt::kWhilePending);
    if (!wait.watch(fd, events)) return WaitOutcome::kFailed;
    if (deadline) wait.set_deadline(*deadline);
    return wait.wait();
  } catch (const std::bad_alloc&) {
    errno = ENOMEM;
    return WaitOutcome::kFailed;
  }
}

}  // namespace

Route route_call(int fd, bool nonblocking_call) {
  Route route;
  route.task = current_task();
  FdInfo info = FdTable::lookup(fd);
  if (info.kind == FdKind::kUnknown && route.task != nullptr) info = FdTable::adopt(fd);
  route.blocking = !nonblocking_call && info.emulates_blocking();
  route.regular_file = route.task != nullptr && info.kind == FdKind::kPlain && info.regular_file;
  return route;
}

namespace {

// `call` as libc's blocking call, on this thread.
ssize_t call_here(const io::internal::FileCall& call) {
  using Kind = io::internal::FileCall::Kind;
  switch (call.kind) {
    case Kind::kRead:
      return call.offset < 0 ? patch::original::read(call.fd, call.buffer, call.length)
                             : patch::original::pread(call.fd, call.buffer, call.length,
                                                      call.offset);
    case Kind::kWrite:
      return call.offset < 0 ? patch::original::write(call.fd, call.buffer, call.length)
                             : patch::original::pwrite(call.fd, call.buffer, call.length,
                                                       call.offset);
    case Kind::kFsync:
      break;
    default:  // the socket kinds: a FileCall is only ever a file's read, write or fsync
      break;
  }
  errno = EINVAL;
  return -1;
}

}  // namespace

ssize_t run_file_call(internal::BlockingContext& task, const io::internal::FileCall& call) {
  // Already interrupted: the task is on its way back to evergreen code, so
  // the call just runs here (parking now would only be cut short).
  if (task.pending) return call_here(call);
  ssize_t result;
  try {
    result = io::internal::perform_file_call(task, call);
  } catch (const std::exception&) {
    return call_here(call);  // thrown before anything was queued
  }
  // Delivered while the call ran: the C caller gets the completed call, and
  // the task the exception at its next suspension point, even if the Timeout
  // that sent it is cancelled before then.
  if (task.pending) internal::keep_pending(task);
  if (result < 0) {
    errno = static_cast<int>(-result);
    return -1;
  }
  return result;
}

bool BlockingCall::wait(int timeout_errno) {
  if (!deadline_known_) {
    deadline_known_ = true;
    Duration timeout = FdTable::timeout(fd_, direction_);
    if (timeout > Duration::zero()) deadline_ = ::evergreen::internal::loop_now() + timeout;
  }
  WaitOutcome outcome;
  if (task_ != nullptr) {
    internal::WaitLabel label(*task_, name_);
    outcome = park_task(*task_, fd_, events_, deadline_);
  } else {
    outcome = block_thread(fd_, events_, deadline_);
  }
  switch (outcome) {
    case WaitOutcome::kReady:
      return true;
    case WaitOutcome::kTimedOut:
      errno = timeout_errno;
      return false;
    case WaitOutcome::kInterrupted:
      errno = interrupted_errno(*task_);
      return false;
    case WaitOutcome::kClosed:
      errno = EBADF;
      return false;
    case WaitOutcome::kFailed:
      return false;
  }
  return false;
}

}  // namespace evergreen::patch_internal
