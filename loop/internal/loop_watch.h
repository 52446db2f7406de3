// What the process-wide watchdog (stall_watchdog.h) sees of one loop.
//
// Each loop owns one LoopWatch and registers it with the watchdog for its
// whole life. The loop thread only ever stores to it: note_turn() once per
// loop turn and after each poll, set_busy() around the poll (an idle loop
// waiting for I/O is not stalled), and the scheduler keeps its hand-off
// budget here (ready_budget: how many more ready entries this turn may run),
// which every switch from one task or callback to the next spends by one.
// So (turns, ready_budget) changes at every switch, and the stall detector
// adds nothing to a switch: the budget was counted down there anyway. All are
// plain relaxed loads and stores of values only the loop thread writes - no
// atomic read-modify-write, no clock read. The watchdog thread reads both; a
// pair that stays the same for longer than the threshold while the loop is
// busy means one task or callback has kept the thread for that long.
//
// The rest is the stack sample: the watchdog asks the loop thread for its own
// backtrace with a signal (stack_sample.h), and the handler, on the loop
// thread, writes frames and the name of what runs into the fixed buffers below
// (no allocation: it runs inside a signal handler).
#ifndef EVERGREEN_LOOP_INTERNAL_LOOP_WATCH_H_
#define EVERGREEN_LOOP_INTERNAL_LOOP_WATCH_H_

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "evergreen/loop/internal/intrusive_list.h"

namespace evergreen::internal {

struct BlockingContext;
class CrossThreadQueue;

struct LoopWatch : IntrusiveListNode<LoopWatch> {
  // --- Written by the loop thread ---------------------------------------------
  void note_turn() {
    turns.store(turns.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void set_busy(bool value) { busy.store(value, std::memory_order_relaxed); }

  std::atomic<uint64_t> turns{0};
  std::atomic<uint64_t> ready_budget{0};  // LoopCore's; see above
  std::atomic<bool> busy{false};
  // Nanoseconds; 0: the stall detector is off for this loop.
  std::atomic<int64_t> stall_threshold_ns{0};

  // --- Fixed at registration (on the loop thread) -------------------------------
  pthread_t thread{};
  pid_t thread_id = 0;
  uint64_t serial = 0;  // tells a watch from a later one at the same address
  // The loop's running context (LoopCore::current_): read only by the signal
  // handler on the loop thread itself.
  BlockingContext* const* running = nullptr;
  std::shared_ptr<CrossThreadQueue> queue;  // for the task dump's callback

  // --- The stack sample ----------------------------------------------------------
  enum SampleState : int { kIdle, kRequested, kWriting, kTaken };
  static constexpr int kMaxFrames = 48;
  std::atomic<int> sample_state{kIdle};
  void* frames[kMaxFrames] = {};
  int frame_count = 0;
  char running_name[160] = {};

  // --- The watchdog's own bookkeeping (watchdog thread, under its mutex) -------
  uint64_t seen_turns = 0;
  uint64_t seen_ready_budget = 0;
  std::chrono::steady_clock::time_point seen_since{};
  bool stall_reported = false;
  std::atomic<uint64_t> dump_answered{0};
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_LOOP_WATCH_H_
