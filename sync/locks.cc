#include "evergreen/sync/locks.h"

#include <stdexcept>
#include <string>

#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen {
namespace {

// The task or main context calling; it identifies an RLock's owner.
internal::BlockingContext& calling_context(const char* operation) {
  if (internal::BlockingContext* context = internal::current_context_or_null()) return *context;
  if (internal::Scheduler::for_this_thread() != nullptr) {
    throw std::runtime_error(std::string("evergreen: ") + operation +
                             " inside an event loop callback: an RLock is owned by a task "
                             "or the main context, and a callback is neither");
  }
  // The main thread before its loop exists (created on demand here), or a
  // thread without a loop (throws, saying so).
  return internal::current_blocking_context();
}

}  // namespace

// --- Semaphore -----------------------------------------------------------------

Semaphore::Semaphore(int value) : Semaphore(value, Bound::kUnbounded) {}

Semaphore::Semaphore(int value, Bound bound) : value_(value), initial_value_(value), bound_(bound) {
  if (value < 0) {
    throw std::invalid_argument("evergreen: a semaphore's initial value must be >= 0, got " +
                                std::to_string(value));
  }
}

void Semaphore::check_thread(const char* member) const {
  // Lock and BoundedSemaphore are told apart by their bound, so the message
  // names the type the user wrote.
  const char* type = bound_ == Bound::kUnlocked  ? "Lock"
                     : bound_ == Bound::kInvalid ? "BoundedSemaphore"
                                                 : "Semaphore";
  affinity_.check(this, type, member);
}

bool Semaphore::acquire(bool blocking, std::optional<Duration> timeout) {
  check_thread("acquire");
  // Free permits and waiters never coexist: release() hands a permit to a
  // waiter instead of counting it, so taking a counted one barges past no one.
  if (value_ > 0) {
    --value_;
    return true;
  }
  if (!blocking) return false;
  // True: release() handed its permit to us.
  return waiters_.wait(acquire_label(), timeout);
}

void Semaphore::acquire_uninterruptibly() {
  check_thread("acquire");
  if (value_ > 0) {
    --value_;
    return;
  }
  waiters_.wait_uninterruptibly(acquire_label());
}

const char* Semaphore::acquire_label() const {
  return bound_ == Bound::kUnlocked  ? "Lock::acquire"
         : bound_ == Bound::kInvalid ? "BoundedSemaphore::acquire"
                                     : "Semaphore::acquire";
}

void Semaphore::release() {
  check_thread("release");
  if (waiters_.notify_one()) return;  // the permit goes straight to the waiter
  if (bound_ != Bound::kUnbounded && value_ >= initial_value_) throw_over_release();
  ++value_;
}

void Semaphore::throw_over_release() const {
  if (bound_ == Bound::kUnlocked) {
    throw std::runtime_error("evergreen: Lock::release(): the lock is not locked");
  }
  throw std::invalid_argument(
      "evergreen: BoundedSemaphore::release(): released more times than acquired (the value "
      "would exceed its initial value " +
      std::to_string(initial_value_) + ")");
}

// --- RLock -------------------------------------------------------------------------

bool RLock::acquire(bool blocking, std::optional<Duration> timeout) {
  affinity_.check(this, "RLock", "acquire");
  internal::BlockingContext& self = calling_context("RLock::acquire()");
  if (owner_ == &self) {
    ++levels_;
    return true;
  }
  if (owner_ == nullptr) {  // a free lock has no waiters (see hand_off)
    owner_ = &self;
    levels_ = 1;
    return true;
  }
  if (!blocking) return false;
  internal::WaitLabel label(self, "RLock::acquire", owner_);
  // True: the owner's last release() made us the owner, at one level.
  return waiters_.wait(nullptr, timeout);
}

void RLock::release() {
  affinity_.check(this, "RLock", "release");
  if (owner_ == nullptr) {
    throw std::runtime_error("evergreen: RLock::release(): the lock is not acquired");
  }
  if (owner_ != internal::current_context_or_null()) {
    throw std::runtime_error(
        "evergreen: RLock::release(): the lock is owned by another task; only its owner may "
        "release it");
  }
  if (--levels_ == 0) hand_off();
}

void RLock::hand_off() {
  if (internal::WaitQueue::Waiter* next = waiters_.front()) {
    owner_ = next->context;
    levels_ = 1;
    waiters_.notify(next);
  } else {
    owner_ = nullptr;
    levels_ = 0;
  }
}

bool RLock::owned_by_caller() const {
  affinity_.check(this, "RLock", "owned_by_caller");
  return owner_ != nullptr && owner_ == internal::current_context_or_null();
}

int RLock::release_all() {
  affinity_.check(this, "RLock", "release");
  int levels = levels_;
  hand_off();
  return levels;
}

void RLock::acquire_restore(int levels) {
  affinity_.check(this, "RLock", "acquire");
  internal::BlockingContext& self = calling_context("RLock::acquire()");
  if (owner_ == nullptr) {
    owner_ = &self;
  } else {
    internal::WaitLabel label(self, "RLock::acquire", owner_);
    waiters_.wait_uninterruptibly(nullptr);  // hand_off() makes us the owner
  }
  levels_ = levels;
}

}  // namespace evergreen
