// The process-wide watchdog thread behind the stall detector
// (EventLoop::set_stall_threshold, EVERGREEN_STALL_MS) and the signal task dump
// (install_task_dump_handler).
//
// Every loop registers its LoopWatch (loop_watch.h) for its whole life. The
// watchdog thread starts the first time a loop gets a stall threshold or a
// dump handler is installed, and then lives as long as the process (it is
// detached and its state is never freed, so it can never touch a destroyed
// object at exit).
//
// Stalls: every quarter of the smallest threshold the watchdog reads each
// watched loop's turn counter. A loop that is busy (not waiting in its poll)
// whose counter has not moved for the threshold is reported once, while the
// task or callback still runs, through the report handler (loop/report.h):
//
//   evergreen: stall: task 'resize' has run for 0.310s without yielding
//   (threshold 0.100s), inside system call clock_nanosleep; stack: #0 ...
//
// Time is wall-clock, so a task blocked in a system call that escaped //patch
// is caught, and the system call and stack come from a stack sample
// (stack_sample.h). A system call the kernel never restarts after a signal
// handler (sleep(), nanosleep(), poll()) returns early with EINTR when it is
// sampled: once per stall, and such calls must be ready for EINTR anyway.
//
// Dumps: the dump signal's handler only sets a flag and writes a byte to the
// watchdog's pipe (async-signal-safe). The watchdog then hands every loop a
// callback that writes dump_tasks() to stderr on the loop's own thread at its
// next turn; a loop that has not answered within kDumpAnswerTimeout (stuck in
// a callback or a task that does not yield, or not running at all) is
// reported from the watchdog thread with what can be read safely: its thread
// id, what it runs, the system call it is in, and its stack sample.
#ifndef EVERGREEN_LOOP_INTERNAL_STALL_WATCHDOG_H_
#define EVERGREEN_LOOP_INTERNAL_STALL_WATCHDOG_H_

#include <signal.h>

#include <chrono>
#include <memory>
#include <optional>

#include "evergreen/loop/duration.h"
#include "evergreen/loop/internal/loop_watch.h"
#include "evergreen/loop/internal/stack_sample.h"

namespace evergreen::internal {

constexpr std::chrono::milliseconds kDumpAnswerTimeout{1000};

// Loop thread: adds `watch` (thread, thread id and serial are filled in here).
// `running`: the loop's running-context pointer, for the sample handler;
// `queue`: the loop's cross-thread queue, for the dump.
void register_loop_watch(LoopWatch& watch, BlockingContext* const* running,
                         std::shared_ptr<CrossThreadQueue> queue);
// Loop thread: removes it again (no-op if not registered). Waits while the
// watchdog is looking at the loop.
void unregister_loop_watch(LoopWatch& watch);

// A loop's registration, for the loop's life (RAII: a constructor that
// throws after it still unregisters).
class WatchedLoop {
 public:
  WatchedLoop(BlockingContext* const* running, std::shared_ptr<CrossThreadQueue> queue) {
    register_loop_watch(watch_, running, std::move(queue));
  }
  ~WatchedLoop() { unregister_loop_watch(watch_); }
  WatchedLoop(const WatchedLoop&) = delete;
  WatchedLoop& operator=(const WatchedLoop&) = delete;
  LoopWatch& watch() { return watch_; }

 private:
  LoopWatch watch_;
};

// Sets or clears `watch`'s stall threshold, starting the watchdog if needed.
// Throws std::invalid_argument for a threshold that is not positive.
void set_stall_threshold(LoopWatch& watch, std::optional<Duration> threshold);

// The threshold EVERGREEN_STALL_MS asks for (nullopt when unset or empty).
// Throws std::invalid_argument naming the variable and its value if it is not
// a positive whole number of milliseconds.
std::optional<Duration> stall_threshold_from_environment();

// Installs the dump handler for `signum` (see install_task_dump_handler).
void install_dump_signal(int signum);

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_STALL_WATCHDOG_H_
