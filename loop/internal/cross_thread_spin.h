// CrossThreadSpin: a loop that has just received work from another thread
// watches its CrossThreadQueue for a short while before it goes to sleep.
//
// Why: a loop that sleeps in epoll_wait/io_uring_enter is woken by an eventfd
// write, which costs the waker a system call and the sleeper a trip through
// the scheduler: tens to hundreds of microseconds on a loaded machine. Work
// that bounces between loops (a request and its reply through two
// ThreadSafeQueues) usually comes back within microseconds, so the loop
// checks the queue's pending flag (one atomic load, with a pause instruction
// between checks) instead. While it spins it is not "sleeping" for the
// queue, so a producer only sets the pending flag and writes no eventfd.
//
// Bounds, so nothing burns CPU for long:
// - The loop spins only until `window` has passed since it last took
//   cross-thread callbacks. A loop that never receives work from another
//   thread (a single-threaded program) never spins; an idle group spins at
//   most one window after the last work that arrived, then sleeps.
// - A window of zero turns spinning off (the default for an EventLoop made
//   on its own; LoopGroup's loops default to kLoopGroupSpinWindow).
// - While spinning the loop does not poll its file descriptors or fire
//   timers, so they wait at most one window longer.
#ifndef EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_SPIN_H_
#define EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_SPIN_H_

#include <chrono>
#include <cstdint>

#include "evergreen/loop/duration.h"

namespace evergreen::internal {

class CrossThreadQueue;

// What a LoopGroup's loops spin for unless LoopOptions::cross_thread_spin
// says otherwise: a few cross-core round trips even on a loaded machine,
// well below the cost of one sleep and wake-up.
inline constexpr Duration kLoopGroupSpinWindow = std::chrono::microseconds(50);

class CrossThreadSpin {
 public:
  explicit CrossThreadSpin(Duration window);

  // Loop thread: cross-thread callbacks were just taken from the queue.
  void note_arrival() {
    if (window_ > Duration::zero()) last_arrival_ = std::chrono::steady_clock::now();
  }

  // Loop thread, with nothing to run and about to block in the poller:
  // spins while the window since the last arrival lasts. Returns true as soon
  // as `queue` has callbacks pending (the poll must then not block), false
  // if there was no window left or it ran out.
  bool spin_for_work(const CrossThreadQueue& queue);

  // How many times spin_for_work() found work by spinning (for tests and
  // benchmarks; loop thread only).
  uint64_t spins_that_found_work() const { return found_; }

 private:
  const Duration window_;
  TimePoint last_arrival_{};
  uint64_t found_ = 0;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_SPIN_H_
