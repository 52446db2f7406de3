#include "evergreen/patch/internal/cooperative_wait.h"

#include <cerrno>
#include <chrono>
#include <new>
#include <system_error>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "evergreen/fiber/fiber.h"
#include "evergreen/loop/internal/fd_registry.h"
#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/poller.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/local.h"
#include "evergreen/loop/timeout.h"

namespace evergreen::patch_internal {

using internal::BlockingContext;
using internal::FdRegistry;
using internal::Scheduler;

// Reported by the kernel whatever was asked for; poll() reports them too.
constexpr uint32_t kAlwaysReported = internal::kPollError | internal::kPollHangUp;

// One fd one wait watches. Level-triggered: a patched call asks whether the
// fd is ready now, so readiness that predates the wait (or that an
// edge-triggered listener of the fd was told of long ago) must wake it.
class CooperativeWait::FdWaiter final : public internal::FdListener {
 public:
  FdWaiter(CooperativeWait& wait, FdRegistry& fds, uint32_t events) : wait_(wait), fds_(fds) {
    interest = events;
    level_triggered = true;
  }
  // Not registered any more if the fd reported, was forgotten, or the loop
  // cleared its registry while being destroyed (then `fds_` is not touched).
  ~FdWaiter() override {
    if (registered()) fds_.remove(*this);
  }
  FdWaiter(const FdWaiter&) = delete;
  FdWaiter& operator=(const FdWaiter&) = delete;

  void on_fd_events(uint32_t events) override {
    // The events may be another listener's (the entry reports the union).
    if ((events & (interest | kAlwaysReported)) == 0) return;
    // Removed at once: until the task runs, a level-triggered registration
    // nobody waits on would report on every loop iteration.
    fds_.remove(*this);
    wait_.ready_ = true;
    internal::wake(wait_.task_);
  }

  // forget_fd_before_close(): the registry has removed us already.
  void on_fd_forgotten() override {
    wait_.closed_ = true;
    internal::wake(wait_.task_);
  }

 private:
  CooperativeWait& wait_;
  FdRegistry& fds_;
};

namespace {

// The exception that last interrupted a wait of this task (kOncePerDelivery).
TaskLocal<std::exception_ptr>& last_interruption() {
  static TaskLocal<std::exception_ptr> local;
  return local;
}

}  // namespace

BlockingContext* current_task() {
  BlockingContext* context = internal::current_context_or_null();
  if (context == nullptr || context->task == nullptr) return nullptr;
  // A raw Fiber switched to from inside a task is not the task: parking it
  // would resume the task's own fiber instead.
  if (Fiber::current() != context->fiber) return nullptr;
  return context;
}

// --- CooperativeWait -------------------------------------------------------------

void CooperativeWait::Deadline::fire() {
  wait->timed_out_ = true;
  internal::wake(wait->task_);
}

CooperativeWait::CooperativeWait(BlockingContext& task, Interrupt interrupt)
    : task_(task), interrupt_(interrupt) {
  timer_.wait = this;
}

// The waiters remove themselves from the registry as they are destroyed.
CooperativeWait::~CooperativeWait() {
  if (timer_.armed()) task_.loop->remove_timer(&timer_);
}

bool CooperativeWait::watch(int fd, uint32_t events) {
  // Owned before it is added, so that no failure leaves a listener linked
  // into the registry without an owner.
  waiters_.push_back(std::make_unique<FdWaiter>(*this, task_.loop->fds(), events));
  absl::Cleanup drop_waiter = [this] { waiters_.pop_back(); };
  try {
    task_.loop->fds().add(fd, *waiters_.back());
  } catch (const std::system_error& error) {
    errno = error.code().value();
    return false;
  }
  std::move(drop_waiter).Cancel();
  return true;
}

void CooperativeWait::notify() {
  ready_ = true;
  internal::wake(task_);
}

bool CooperativeWait::interrupted() {
  if (!task_.pending) return false;
  if (interrupt_ == Interrupt::kOncePerDelivery) {
    try {
      std::exception_ptr& reported = last_interruption().get();
      if (reported == task_.pending) return false;
      reported = task_.pending;
    } catch (const std::bad_alloc&) {
      // No memory to remember it: interrupting again is the safe side.
    }
  }
  internal::keep_pending(task_);
  return true;
}

int interrupted_errno(const BlockingContext& task) {
  if (!task.pending) return ECANCELED;
  try {
    std::rethrow_exception(task.pending);
  } catch (const Timeout&) {
    return ETIMEDOUT;
  } catch (...) {
  }
  return ECANCELED;
}

WaitOutcome CooperativeWait::wait() {
  if (closed_) return WaitOutcome::kClosed;
  if (ready_) return WaitOutcome::kReady;
  if (interrupted()) return WaitOutcome::kInterrupted;
  Scheduler& loop = *task_.loop;
  if (deadline_) {
    if (*deadline_ <= ::evergreen::internal::loop_now()) return WaitOutcome::kTimedOut;
    loop.add_timer(&timer_, *deadline_);
  }
  // The loop must not finish under a waiting task: run() does not count fd
  // listeners as work (an io stream nobody reads from keeps nothing going).
  Scheduler::KeepAlive keep_alive(loop);
  for (;;) {
    internal::park(task_);
    // A readiness that raced with a delivery wins, as in WaitQueue: the
    // exception stays pending for the next suspension point.
    if (closed_) return WaitOutcome::kClosed;
    if (ready_) return WaitOutcome::kReady;
    if (interrupted()) return WaitOutcome::kInterrupted;
    if (timed_out_) return WaitOutcome::kTimedOut;
    // Woken by a delivery since withdrawn (a cancelled Timeout): wait on.
  }
}

void forget_fd_before_close(int fd) {
  if (Scheduler* loop = Scheduler::for_this_thread()) loop->fds().forget(fd);
}

WaitOutcome sleep_until(BlockingContext& task, TimePoint deadline) {
  if (deadline <= ::evergreen::internal::loop_now()) {
    // A zero sleep yields: everything ready runs first.
    internal::wake(task);
    internal::park(task);
    return WaitOutcome::kTimedOut;
  }
  CooperativeWait wait(task, Interrupt::kOncePerDelivery);
  wait.set_deadline(deadline);
  return wait.wait();
}

}  // namespace evergreen::patch_internal
