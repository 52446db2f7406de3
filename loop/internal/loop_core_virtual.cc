// The loop iteration under virtual time (evergreen::testing, loop/testing.h),
// and wait_idle(). LoopCore::run_once() comes here when the loop has a
// virtual clock; a loop with a real clock never runs any of this.
//
// When the clock moves: an iteration fires the timers due at the virtual now,
// takes cross-thread callbacks and runs the turn's ready entries, as the real
// iteration does. Then, if nothing is ready:
//   1. the backend is polled without waiting: I/O that has already arrived
//      (loopback data another task of this loop wrote is in the kernel before
//      its send returned) wakes its readers, and the clock stays;
//   2. if I/O may still come - an fd is watched besides the loop's own
//      wake-up fd (a task waiting to read, accept or connect, an
//      add_reader() callback) or keep-alive work is out (a thread-pool job,
//      a file operation) - the backend is polled for up to kIoGraceMs of
//      real time: a reply on its way from another thread or process arrives
//      in that window, and the clock stays;
//   3. a wait_idle() caller is woken (everything else is blocked), and the
//      clock stays;
//   4. otherwise the clock jumps to the earliest timer's deadline; the next
//      iteration fires exactly the timers due then, FIFO among equal
//      deadlines. Without timers the loop does what a real one does: blocks
//      for I/O if anything keeps it running, else ends (and a blocked main
//      context gets the deadlock error).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <stdexcept>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/loop_core.h"
#include "evergreen/loop/internal/virtual_time_state.h"

namespace evergreen::internal {
namespace {

// The real time an otherwise idle loop waits for I/O that may be on its way
// before it moves the virtual clock (step 2 above).
constexpr int kIoGraceMs = 20;
// An iteration runs at least this many ready entries without a seed, as the
// real iteration does (loop_core.cc).
constexpr size_t kMinimumReadyBudget = 64;
// Where every virtual clock starts: a fixed point, so a run is the same
// every time. steady_clock's epoch plus a day keeps `start - 1h` valid.
constexpr TimePoint kVirtualStart{std::chrono::hours(24)};

}  // namespace

void LoopCore::enable_virtual_time(std::optional<uint64_t> shuffle_seed) {
  if (virtual_time_ != nullptr) {
    throw std::logic_error("evergreen: this event loop already runs on virtual time");
  }
  if (this_thread_virtual_clock != nullptr) {
    throw std::logic_error("evergreen: this thread already has a virtual clock");
  }
  auto state = std::make_unique<VirtualTimeState>();
  state->clock.now = state->clock.start = kVirtualStart;
  timespec wall{};
  ::clock_gettime(CLOCK_REALTIME, &wall);
  state->clock.realtime_start_ns = static_cast<int64_t>(wall.tv_sec) * 1'000'000'000 + wall.tv_nsec;
  if (shuffle_seed) state->shuffle.emplace(*shuffle_seed);
  virtual_time_ = std::move(state);
  this_thread_virtual_clock = &virtual_time_->clock;
}

void LoopCore::stop_virtual_clock() {
  if (virtual_time_ != nullptr && this_thread_virtual_clock == &virtual_time_->clock) {
    this_thread_virtual_clock = nullptr;
  }
}

void LoopCore::wait_idle(BlockingContext& self) {
  if (virtual_time_ == nullptr) {
    throw std::logic_error(
        "evergreen: testing::wait_idle() called outside run_with_virtual_time() (this thread's "
        "loop has a real clock)");
  }
  if (virtual_time_->idle_waiter != nullptr) {
    throw std::logic_error(
        "evergreen: testing::wait_idle(): another task is already waiting for the loop to be "
        "idle (only one may wait at a time)");
  }
  raise_pending(self);
  virtual_time_->idle_waiter = &self;
  // Keeps run() going while nothing else would: "everything is blocked" is
  // then the moment to wake us, not the end of the loop.
  Scheduler::KeepAlive keep_alive(*this);
  absl::Cleanup leave = [&] {
    if (virtual_time_->idle_waiter == &self) virtual_time_->idle_waiter = nullptr;
  };
  while (virtual_time_->idle_waiter == &self) suspend(self);
}

bool LoopCore::io_pending() const {
  // The wait_idle() caller's keep-alive is not I/O.
  const int idle_keep_alive = virtual_time_->idle_waiter != nullptr ? 1 : 0;
  return poller_->size() > 1 || keep_alive_ > idle_keep_alive;
}

void LoopCore::run_ready_entries(size_t budget) {
  set_ready_budget(budget);
  while (ready_budget() > 0) {
    ReadyNode* node = ready_.pop();
    if (node == nullptr) break;
    spend_ready_budget();
    node->run_ready();
  }
  set_ready_budget(0);
}

void LoopCore::run_once_virtual() {
  VirtualTimeState& state = *virtual_time_;
  release_retired();
  const bool timers_behind = fire_due_timers();
  take_cross_thread_callbacks();
  if (!start_backlog_.empty()) start_backlog_.admit(ready_, timers_behind);

  if (state.shuffle) {
    // Exactly this turn's entries, in an order drawn from the seed (a
    // Fisher-Yates shuffle written out: std::shuffle's algorithm is not
    // specified). Entries queued while they run wait for the next turn, so
    // hand-offs between parked tasks stay within the permutation.
    state.turn.clear();
    while (ReadyNode* node = ready_.pop()) state.turn.push_back(node);
    for (size_t i = state.turn.size(); i > 1; --i) {
      size_t j = static_cast<size_t>((*state.shuffle)() % i);
      std::swap(state.turn[i - 1], state.turn[j]);
    }
    for (ReadyNode* node : state.turn) ready_.push(node);
    run_ready_entries(state.turn.size());
  } else {
    run_ready_entries(std::max(ready_.size(), kMinimumReadyBudget));
  }

  auto something_to_run = [&] {
    return !ready_.empty() || !start_backlog_.empty() || stop_requested_ ||
           thread_queue_->has_pending();
  };
  if (something_to_run()) {
    if (poller_->size() > 1) poller_->poll(0);  // I/O keeps its turn, as in run_once()
    return;
  }
  // 1. I/O that has arrived already.
  if (poller_->size() > 1 && poller_->poll(0) > 0) return;
  // A timer due at the current virtual time (added while timers fired).
  if (!timers_.empty() && timers_.next_deadline() <= state.clock.now) return;
  // 2. I/O that may be on its way.
  if (io_pending()) {
    int events = 0;
    if (thread_queue_->begin_sleep()) {
      events = poller_->poll(kIoGraceMs);
      thread_queue_->end_sleep();
    }
    if (events > 0 || something_to_run()) return;
  }
  // 3. Everything else is blocked.
  if (BlockingContext* waiter = std::exchange(state.idle_waiter, nullptr)) {
    wake(*waiter);
    return;
  }
  // 4. Move the clock.
  if (!timers_.empty()) {
    state.clock.now = std::max(state.clock.now, timers_.next_deadline());
    return;
  }
  if (run_forever_ || !fd_callbacks_.empty() || keep_alive_ > 0) {
    if (thread_queue_->begin_sleep()) {
      poller_->poll(-1);
      thread_queue_->end_sleep();
    }
  }
}

}  // namespace evergreen::internal
