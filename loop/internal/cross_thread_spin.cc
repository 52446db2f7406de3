#include "evergreen/loop/internal/cross_thread_spin.h"

#include <stdexcept>
#include <string>

#include "evergreen/loop/internal/cpu_relax.h"
#include "evergreen/loop/internal/cross_thread_queue.h"

namespace evergreen::internal {
namespace {

// Checks of the pending flag between two reads of the clock: the flag is
// one load, the clock a few tens of nanoseconds.
constexpr int kChecksPerClockRead = 32;

}  // namespace

CrossThreadSpin::CrossThreadSpin(Duration window) : window_(window) {
  if (window < Duration::zero()) {
    throw std::invalid_argument("evergreen: LoopOptions::cross_thread_spin is negative (" +
                                std::to_string(window.count()) + " ns)");
  }
}

bool CrossThreadSpin::spin_for_work(const CrossThreadQueue& queue) {
  if (window_ == Duration::zero()) return false;
  const TimePoint until = last_arrival_ + window_;
  if (std::chrono::steady_clock::now() >= until) return false;
  for (;;) {
    for (int i = 0; i < kChecksPerClockRead; ++i) {
      if (queue.has_pending()) {
        ++found_;
        return true;
      }
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= until) return queue.has_pending();
  }
}

}  // namespace evergreen::internal
