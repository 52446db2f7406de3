// lock_spinning_briefly(): takes a std::mutex as lock() does, but retries
// try_lock() for a moment first.
//
// Why: glibc's std::mutex sleeps in the kernel (futex) at the first
// contention, and its owner then pays a futex wake on unlock: microseconds
// each. ThreadSafeQueue holds its mutex for a few dozen instructions, and in
// a cross-loop exchange the two sides take it moments apart (the consumer
// registering as a waiter, the producer handing it the item), so the brief
// contention is common and worth a short spin. The spin is bounded
// (kTries): a holder that was preempted costs the spinner a few
// microseconds, then it sleeps as before.
#ifndef EVERGREEN_SYNC_INTERNAL_LOCK_SPINNING_BRIEFLY_H_
#define EVERGREEN_SYNC_INTERNAL_LOCK_SPINNING_BRIEFLY_H_

#include <mutex>

#include "evergreen/loop/internal/cpu_relax.h"

namespace evergreen::internal {

// `lock` must not own its mutex; it does on return.
inline void lock_spinning_briefly(std::unique_lock<std::mutex>& lock) {
  constexpr int kTries = 64;
  for (int i = 0; i < kTries; ++i) {
    if (lock.try_lock()) return;
    cpu_relax();
  }
  lock.lock();
}

}  // namespace evergreen::internal

#endif  // EVERGREEN_SYNC_INTERNAL_LOCK_SPINNING_BRIEFLY_H_
