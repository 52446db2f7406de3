// Parking a task inside an interposed C call: until some fds are ready, a
// deadline passes, something on the loop calls notify(), a watched fd is
// closed, or an exception (kill, Timeout) is delivered to the task.
//
// This is //patch's own piece, built on the loop's fd registry and
// park()/wake(), rather than io's streams or the loop's WaitQueue, because the
// waits differ in kind: the fds belong to someone else (a C library's socket,
// a pipe, an epoll fd the program owns) and are watched only for one wait, one
// wait may cover many fds (poll, select), several tasks may wait on one fd,
// and - above all - a delivered exception must never be raised here (it
// cannot unwind through C frames), while io and WaitQueue raise it: here it is
// reported as an outcome and left pending on the task.
//
// Each fd a wait watches is one level-triggered listener on the loop's
// FdRegistry, added by watch() and removed when the fd reports or the wait
// ends. The registry keeps one kernel registration per fd, shared with every
// other user of that fd on the loop (other waits, an io stream,
// EventLoop::add_reader), so an fd someone else already watches is watched
// as it is. Level-triggered because a patched call asks whether the fd is
// ready now: an fd that is ready when the wait starts wakes it at once.
// All of this runs on the loop's thread; nothing is shared between threads.
#ifndef EVERGREEN_PATCH_INTERNAL_COOPERATIVE_WAIT_H_
#define EVERGREEN_PATCH_INTERNAL_COOPERATIVE_WAIT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/timer_heap.h"

namespace evergreen::patch_internal {

// The running task's context, or null outside tasks (main context, loop
// callbacks, threads without a loop): only tasks are made cooperative.
internal::BlockingContext* current_task();

// How a delivered exception interrupts a wait.
enum class Interrupt : uint8_t {
  // Every wait while an exception is pending fails (socket calls, poll,
  // select: they report interrupted_errno(), which libraries treat as a
  // timeout or a fatal error, so they stop and return to evergreen code where
  // the exception is raised).
  kWhilePending,
  // Only the first wait after each delivery fails (sleeps: their one failure
  // is EINTR, which callers often retry at once; sleeping normally on the
  // retry keeps them from spinning).
  kOncePerDelivery,
};

enum class WaitOutcome : uint8_t {
  kReady,        // an fd is ready, or notify() was called
  kTimedOut,     // the deadline passed
  kInterrupted,  // an exception was delivered (and left pending)
  kClosed,       // a watched fd was closed by close() (or dup2() onto it) on this thread
  kFailed,       // the fd could not be watched; errno says why
};

class CooperativeWait {
 public:
  CooperativeWait(internal::BlockingContext& task, Interrupt interrupt);
  ~CooperativeWait();
  CooperativeWait(const CooperativeWait&) = delete;
  CooperativeWait& operator=(const CooperativeWait&) = delete;

  // Wakes the wait when `fd` reports any of `events` (the loop's kPoll*
  // bits, poller.h), an error or a hang-up, or when it is closed. The
  // fd may be watched by anyone else on this loop, and by this wait more than
  // once. Returns false with errno set if the fd cannot be watched; EPERM
  // means it never blocks (a regular file), and callers may ignore it. Throws
  // std::bad_alloc.
  bool watch(int fd, uint32_t events);

  void set_deadline(TimePoint deadline) { deadline_ = deadline; }

  // Wakes the wait from elsewhere on this loop (a helper task finishing).
  void notify();

  // Parks the task until one of the outcomes above; returns at once if one
  // already holds. Call it once per CooperativeWait. Never throws. A delivery
  // it reports as kInterrupted stays pending and can no longer be withdrawn
  // (internal::keep_pending): the C caller is told its call failed, so the
  // task must see the exception at its next suspension point even if the
  // Timeout that sent it has since been cancelled (the usual
  // `{ Timeout t(5s); curl_easy_perform(h); }`).
  WaitOutcome wait();

 private:
  // One watched fd: a listener on the loop's FdRegistry (cooperative_wait.cc).
  class FdWaiter;
  struct Deadline final : internal::TimerEntry {
    void fire() override;
    CooperativeWait* wait = nullptr;
  };

  bool interrupted();

  internal::BlockingContext& task_;
  Interrupt interrupt_;
  std::optional<TimePoint> deadline_;
  Deadline timer_;
  // Each waiter's address is linked into the registry: they do not move.
  std::vector<std::unique_ptr<FdWaiter>> waiters_;
  bool ready_ = false;
  bool closed_ = false;
  bool timed_out_ = false;
};

// The errno for a C call that a delivered exception interrupted: ETIMEDOUT
// for a Timeout (libraries report it as their own timeout: hiredis's
// REDIS_ERR_TIMEOUT, "Connection timed out" in messages), ECANCELED for a
// kill or any other exception (an error every library gives up on).
int interrupted_errno(const internal::BlockingContext& task);

// `fd` is about to be closed (close(), or dup2()/dup3() onto it): every user
// of it on this thread's loop lets go of it (FdRegistry::forget()), so that a
// new file given the same number starts afresh. Waits watching it end with
// kClosed; EventLoop::add_reader/add_writer callbacks on it are dropped; io
// and the resolver learn of it through their listeners. Loops of other
// threads are not told (nothing here may touch them). Nothing happens if this
// thread has no loop.
void forget_fd_before_close(int fd);

// Parks the task until `deadline` (a sleep). Interrupted once per delivery.
WaitOutcome sleep_until(internal::BlockingContext& task, TimePoint deadline);

}  // namespace evergreen::patch_internal

#endif  // EVERGREEN_PATCH_INTERNAL_COOPERATIVE_WAIT_H_
