#include "evergreen/sync/internal/cross_thread_waiter.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/cpu_relax.h"
#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/timer_heap.h"

namespace evergreen::internal {
namespace {

// Wakes the waiting context when its deadline passes; the waiter then sees
// `expired` and, if nobody served it meanwhile, leaves with nothing.
struct DeadlineTimer final : TimerEntry {
  void fire() override {
    expired = true;
    wake(*wakes);
  }
  bool expired = false;
};

}  // namespace

bool CrossThreadWaiter::wait(std::unique_lock<std::mutex>& lock, List& list,
                             std::optional<TimePoint> deadline, const char* what) {
  BlockingContext* self = current_context_or_null();
  if (self == nullptr && Scheduler::for_this_thread() != nullptr) {
    throw std::runtime_error(std::string("evergreen: ") + what +
                             "() would block inside an event loop callback and stall the loop; "
                             "call it from a task (spawn) instead");
  }
  if (self != nullptr) return wait_on_loop(lock, list, *self, deadline);
  return wait_on_thread(lock, list, deadline);
}

bool CrossThreadWaiter::wait_on_loop(std::unique_lock<std::mutex>& lock, List& list,
                                     BlockingContext& self, std::optional<TimePoint> deadline) {
  // An exception left pending by an earlier served wait is raised here, at
  // the next suspension point, before anything is linked.
  if (self.pending) raise_pending(self);
  if (deadline && *deadline <= ::evergreen::internal::loop_now()) return false;

  Scheduler& loop = *self.loop;
  loop_queue_ = loop.cross_thread_queue().get();
  wake_.context = &self;
  list.push_back(this);
  // Decided before the mutex is released: a waker reads it after taking it.
  bool spin = should_spin(loop);
  if (spin) spin_state_.store(SpinState::kSpinning, std::memory_order_relaxed);

  // Another thread may serve us: the loop must not end (nor declare the main
  // context deadlocked) while we wait.
  Scheduler::KeepAlive keep_alive(loop);
  DeadlineTimer timer;
  timer.wakes = &self;
  if (deadline) loop.add_timer(&timer, *deadline);

  absl::Cleanup leave = [&] {
    // Runs on the loop thread, mutex unlocked or held.
    if (timer.armed()) loop.remove_timer(&timer);
    // Served from another thread and woken by it: unlinked, nothing queued.
    if (wake_.consumed.load(std::memory_order_acquire)) return;
    if (!lock.owns_lock()) lock.lock();
    if (is_linked()) list.remove(this);
    // Served from another thread but resumed by something else first: our
    // record is (or is about to be) in the loop's queue, which must not keep
    // it past this frame.
    if (wake_pushed_) {
      lock.unlock();  // the waker pushes after releasing the mutex
      await_record_released(self);
    }
  };
  for (;;) {
    lock.unlock();
    if (spin) {
      spin = false;  // once per wait: a stale wake-up parks at once
      if (spin_until_served(loop, deadline)) {
        // The waker found us spinning and pushes nothing: our record is
        // free, and what it wrote under the mutex was published by the flip.
        wake_.consumed.store(true, std::memory_order_relaxed);
        return true;
      }
    }
    park(self);
    // The loop took our record: the waker served us and published what it
    // wrote under the mutex with the push. No need to lock again.
    if (wake_.consumed.load(std::memory_order_acquire)) return true;
    lock.lock();
    if (outcome_ != Outcome::kWaiting) return true;
    if (self.pending) raise_pending(self);  // `leave` unlinks us
    if (timer.expired) return false;
    // Otherwise a stale wake-up: wait on.
  }
}

bool CrossThreadWaiter::wait_on_thread(std::unique_lock<std::mutex>& lock, List& list,
                                       std::optional<TimePoint> deadline) {
  std::condition_variable wake;
  thread_wake_ = &wake;
  list.push_back(this);
  absl::Cleanup leave = [&] {
    if (is_linked()) list.remove(this);
  };
  while (outcome_ == Outcome::kWaiting) {
    if (!deadline) {
      wake.wait(lock);
    } else if (wake.wait_until(lock, *deadline) == std::cv_status::timeout) {
      return outcome_ != Outcome::kWaiting;
    }
  }
  return true;
}

bool CrossThreadWaiter::should_spin(const Scheduler& loop) const {
  return spin_if_idle && loop.cross_thread_spin() > Duration::zero() && !loop.has_ready() &&
         !loop_queue_->has_pending();
}

bool CrossThreadWaiter::spin_until_served(const Scheduler& loop,
                                          std::optional<TimePoint> deadline) {
  // Checks of the spin state between two reads of the clock (as in
  // cross_thread_spin.cc): the state is one load, the clock tens of ns.
  constexpr int kChecksPerClockRead = 32;
  Duration window = loop.cross_thread_spin();
  // The deadline is on the loop's clock (which tests may drive virtually),
  // the spin on the real one.
  if (deadline) window = std::min(window, *deadline - ::evergreen::internal::loop_now());
  const auto until = std::chrono::steady_clock::now() + window;
  for (int checks = 1;; ++checks) {
    if (spin_state_.load(std::memory_order_acquire) == SpinState::kServed) return true;
    // Something else for this loop from another thread (a kill, a callback,
    // another context's wake-up): stop, so the loop runs it.
    if (loop_queue_->has_pending()) break;
    if (checks % kChecksPerClockRead == 0 && std::chrono::steady_clock::now() >= until) break;
    cpu_relax();
  }
  // Either we park (and a waker will push our record) or a waker flipped
  // the state first (and will not): the one exchange decides.
  SpinState expected = SpinState::kSpinning;
  return !spin_state_.compare_exchange_strong(expected, SpinState::kParked,
                                              std::memory_order_acq_rel,
                                              std::memory_order_acquire);
}

void CrossThreadWaiter::await_record_released(BlockingContext& self) {
  // The waker released the mutex and pushes next (or already did): a few
  // instructions on another thread, unless that thread was preempted in
  // between. Take what is queued (waking the other contexts) until our
  // record came through; the loop thread does nothing else meanwhile, as for
  // any short lock.
  while (!wake_.consumed.load(std::memory_order_acquire)) {
    wake_arrivals(loop_queue_->take_wakes(), &self);
    if (!wake_.consumed.load(std::memory_order_acquire)) std::this_thread::yield();
  }
}

void CrossThreadWaiter::notify(List& list, Outcome outcome, DeferredWakes& wakes) {
  list.remove(this);
  outcome_ = outcome;
  if (thread_wake_ != nullptr) {
    // Under the mutex: the waiter cannot return (and destroy the condition
    // variable) before we are done with it.
    thread_wake_->notify_one();
    return;
  }
  Scheduler* here = Scheduler::for_this_thread();
  if (here != nullptr && here->cross_thread_queue().get() == loop_queue_) {
    // The waiter's own loop is running us, so the waiter is parked (or woken
    // and not yet resumed): wake it directly.
    wake(*wake_.context);
    return;
  }
  wake_pushed_ = true;
  next_deferred_ = nullptr;
  if (wakes.last_ == nullptr) {
    wakes.first_ = this;
  } else {
    wakes.last_->next_deferred_ = this;
  }
  wakes.last_ = this;
}

CrossThreadWaiter::DeferredWakes::~DeferredWakes() {
  for (CrossThreadWaiter* waiter = first_; waiter != nullptr;) {
    // Read everything first: after a successful push the waiter may resume
    // and leave at any moment, so it is not touched again.
    CrossThreadWaiter* next = waiter->next_deferred_;
    CrossThreadQueue& queue = *waiter->loop_queue_;
    // Still spinning: the flip alone serves it (and publishes what we wrote
    // under the mutex); it may leave at once, so we are done with it.
    if (waiter->spin_state_.exchange(SpinState::kServed, std::memory_order_acq_rel) ==
        SpinState::kSpinning) {
      waiter = next;
      continue;
    }
    if (!queue.push_wake(&waiter->wake_)) {
      // The waiter's loop is being destroyed: its tasks are killed and
      // resumed by the destruction itself. The waiter waits for this.
      waiter->wake_.consumed.store(true, std::memory_order_release);
    }
    waiter = next;
  }
}

}  // namespace evergreen::internal
