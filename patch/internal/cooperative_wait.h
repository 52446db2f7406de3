// Parking a task inside an interposed C call: until some fds are ready, a
// deadline passes, something on the loop calls notify(), or an exception
// (kill, Timeout) is delivered to the task.
//
// This is //patch's own piece, built on the loop's Poller and park()/wake(),
// rather than io's IoWatcher or the loop's WaitQueue, because the waits differ
// in kind: the fds belong to someone else (a C library's socket, a pipe, an
// epoll fd the program owns) and are never registered for long, one wait may
// cover many fds (poll, select), several tasks may wait on one fd, and - above
// all - a delivered exception must never be raised here (it cannot unwind
// through C frames), while IoWatcher and WaitQueue raise it: here it is
// reported as an outcome and left pending on the task.
//
// Each thread keeps one poller registration per fd that some task of its loop
// is waiting on, shared by those waiters and removed with the last of them.
// An fd already registered with the loop's poller by someone else (an
// io stream, EventLoop::add_reader) is watched through a dup of it, since
// epoll accepts each (fd, file) pair once. All of this runs on the loop's
// thread; nothing is shared between threads.
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
  kClosed,       // a watched fd was closed by close() on this thread
  kFailed,       // the fd could not be watched; errno says why
};

class CooperativeWait {
 public:
  CooperativeWait(internal::BlockingContext& task, Interrupt interrupt);
  ~CooperativeWait();
  CooperativeWait(const CooperativeWait&) = delete;
  CooperativeWait& operator=(const CooperativeWait&) = delete;

  // Wakes the wait when `fd` reports any of `events` (kPoll* bits, the same
  // as epoll's and poll's), an error or a hang-up. Returns false with errno
  // set if the fd cannot be watched; EPERM means it never blocks (a regular
  // file), and callers may ignore it.
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
  friend class FdWatch;
  struct Node;
  struct Deadline final : internal::TimerEntry {
    void fire() override;
    CooperativeWait* wait = nullptr;
  };

  bool interrupted();

  internal::BlockingContext& task_;
  Interrupt interrupt_;
  std::optional<TimePoint> deadline_;
  Deadline timer_;
  std::vector<std::unique_ptr<Node>> nodes_;
  bool ready_ = false;
  bool closed_ = false;
  bool timed_out_ = false;
};

// The errno for a C call that a delivered exception interrupted: ETIMEDOUT
// for a Timeout (libraries report it as their own timeout: hiredis's
// REDIS_ERR_TIMEOUT, "Connection timed out" in messages), ECANCELED for a
// kill or any other exception (an error every library gives up on).
int interrupted_errno(const internal::BlockingContext& task);

// Wakes every wait of this thread watching `fd` with kClosed and drops its
// registration; close() calls it before closing.
void wake_waiters_on_close(int fd);

// Parks the task until `deadline` (a sleep). Interrupted once per delivery.
WaitOutcome sleep_until(internal::BlockingContext& task, TimePoint deadline);

}  // namespace evergreen::patch_internal

#endif  // EVERGREEN_PATCH_INTERNAL_COOPERATIVE_WAIT_H_
