#include "evergreen/sync/condition.h"
#include "evergreen/loop/internal/wait_label.h"

#include <stdexcept>
#include <string>

namespace evergreen {

Condition::Condition() : own_lock_(std::in_place), rlock_(&*own_lock_) {}

Condition::Condition(Semaphore& lock) : semaphore_(&lock) {}

Condition::Condition(RLock& lock) : rlock_(&lock) {}

bool Condition::acquire(bool blocking, std::optional<Duration> timeout) {
  affinity_.check(this, "Condition", "acquire");
  return rlock_ != nullptr ? rlock_->acquire(blocking, timeout)
                           : semaphore_->acquire(blocking, timeout);
}

void Condition::release() {
  affinity_.check(this, "Condition", "release");
  if (rlock_ != nullptr) {
    rlock_->release();
  } else {
    semaphore_->release();
  }
}

bool Condition::held_by_caller() const {
  // A semaphore has no owner: as Python does, it counts as held when no
  // permit is free.
  return rlock_ != nullptr ? rlock_->owned_by_caller() : semaphore_->value() == 0;
}

void Condition::require_held(const char* operation) const {
  if (!held_by_caller()) {
    throw std::runtime_error(std::string("evergreen: ") + operation +
                             " called without holding the condition's lock");
  }
}

bool Condition::wait(std::optional<Duration> timeout) {
  affinity_.check(this, "Condition", "wait");
  require_held("Condition::wait()");
  // Fail before releasing anything if this caller cannot block at all.
  internal::current_blocking_context();

  int levels = 0;
  if (rlock_ != nullptr) {
    levels = rlock_->release_all();
  } else {
    semaphore_->release();
  }
  internal::WaitLabel label("Condition::wait");
  bool notified;
  try {
    notified = waiters_.wait(nullptr, timeout);  // named above, with the re-acquire
  } catch (...) {
    reacquire(levels);
    throw;
  }
  reacquire(levels);
  return notified;
}

void Condition::reacquire(int levels) {
  if (rlock_ != nullptr) {
    rlock_->acquire_restore(levels);
  } else {
    semaphore_->acquire_uninterruptibly();
  }
}

void Condition::notify(int n) {
  affinity_.check(this, "Condition", "notify");
  require_held("Condition::notify()");
  for (int i = 0; i < n && waiters_.notify_one(); ++i) {
  }
}

void Condition::notify_all() {
  affinity_.check(this, "Condition", "notify_all");
  require_held("Condition::notify_all()");
  waiters_.notify_all();
}

}  // namespace evergreen
