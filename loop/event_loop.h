// evergreen/loop/event_loop.h
//
// The per-thread event loop: it runs callbacks, timers, I/O readiness callbacks,
// signal handlers and the tasks built on them (evergreen/loop/task.h).
//
// Guarantees:
// - At most one EventLoop exists per thread. The main thread's loop is created on
//   demand by EventLoop::current(); any other thread must construct one itself.
// - Callbacks scheduled with call_soon() run in FIFO order of scheduling; timers
//   run in deadline order, FIFO among equal deadlines.
// - Every member except call_from_thread() must be called on the loop's thread.
// - The loop runs once: after run() or run_forever() has returned it cannot be
//   started again; create a new loop (after destroy()) instead.
// - An exception escaping a callback is reported (through the report handler,
//   evergreen/loop/report.h; stderr by default) and does not stop the loop.
#ifndef EVERGREEN_LOOP_EVENT_LOOP_H_
#define EVERGREEN_LOOP_EVENT_LOOP_H_

// Said first, so that a consumer who forgets the flag reads this rather than
// pages of errors from the C++20 code below.
#if __cplusplus < 202002L
#error "evergreen needs C++20: compile with -std=c++20 (Bazel: --cxxopt=-std=c++20 in .bazelrc)"
#endif

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "evergreen/loop/duration.h"
#include "evergreen/loop/loop_options.h"

namespace evergreen {

namespace internal {
class LoopCore;
class Scheduler;
class CrossThreadQueue;
struct CallbackRecord;
struct BlockingContext;
}  // namespace internal

// Handler
//
// A cheap, copyable handle to a scheduled callback, timer or signal handler.
// Only the loop creates them. cancel() must be called on the loop's thread.
class Handler {
 public:
  Handler() = default;

  // Handler::cancel()
  //
  // Prevents the callback from running if it has not run yet; for a signal
  // handler, removes just that handler. Cancelling twice does nothing.
  void cancel();

  // Handler::cancelled()
  //
  // True once cancel() has been called (on any copy).
  bool cancelled() const;

 private:
  friend class internal::LoopCore;
  explicit Handler(std::shared_ptr<internal::CallbackRecord> record) : record_(std::move(record)) {}
  std::shared_ptr<internal::CallbackRecord> record_;
};

class EventLoop {
 public:
  using Callback = absl::AnyInvocable<void()>;

  // Creates this thread's loop. Throws std::runtime_error if the thread already
  // has one, std::invalid_argument if EVERGREEN_BACKEND names no backend, and
  // std::system_error if the backend asked for explicitly is not available.
  EventLoop() : EventLoop(LoopOptions{}) {}
  explicit EventLoop(LoopOptions options);
  // Destroys the loop as destroy() does, if that has not happened yet.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // EventLoop::current()
  //
  // This thread's loop. On the main thread a loop is created on demand (and torn
  // down quietly when the thread exits); on other threads, if none was created,
  // throws std::runtime_error.
  static EventLoop& current();

  // EventLoop::call_soon()
  //
  // Runs `callback` on the next loop iteration, after the callbacks already
  // scheduled.
  Handler call_soon(Callback callback);

  // EventLoop::call_later() / call_at()
  //
  // Runs `callback` once the delay has passed / the time point is reached. A
  // negative delay or a past time point runs it on the next iteration.
  Handler call_later(Duration delay, Callback callback);
  Handler call_at(TimePoint when, Callback callback);
  // Any std::chrono::duration, and steady_clock time points of any
  // precision, rounded up (see evergreen/loop/duration.h).
  template <class Rep, class Period>
  Handler call_later(std::chrono::duration<Rep, Period> delay, Callback callback) {
    return call_later(to_duration(delay), std::move(callback));
  }
  template <class D>
  Handler call_at(std::chrono::time_point<std::chrono::steady_clock, D> when, Callback callback) {
    return call_at(to_time_point(when), std::move(callback));
  }

  // EventLoop::call_from_thread()
  //
  // The only thread-safe member: schedules `callback` to run on the loop's
  // thread, waking the loop if it sleeps. Callbacks from one thread run in the
  // order they were scheduled; none is lost. Throws std::runtime_error after
  // destroy().
  Handler call_from_thread(Callback callback);

  // EventLoop::backend()
  //
  // The backend in use (never Backend::kAuto).
  Backend backend() const;

  // EventLoop::backend_fallback_reason()
  //
  // Why a loop built with Backend::kAuto (and no EVERGREEN_BACKEND) uses epoll
  // although io_uring was wanted: the kernel's refusal, e.g. "evergreen:
  // io_uring: io_uring_setup failed with 8 entries: Operation not permitted
  // (refused by seccomp or the kernel.io_uring_disabled sysctl)". Empty when
  // io_uring is in use or a backend was asked for by name. Valid as long as
  // the loop.
  std::string_view backend_fallback_reason() const;

  // EventLoop::time()
  //
  // The loop's notion of now: the steady clock, read at each call (timers
  // compare their deadlines against the same clock).
  TimePoint time() const;

  // EventLoop::add_reader() / add_writer()
  //
  // Runs `callback` each time `fd` is ready for reading / writing, until removed
  // (level-triggered). Adding again replaces the previous callback. An invalid fd
  // throws std::system_error.
  void add_reader(int fd, Callback callback);
  void add_writer(int fd, Callback callback);

  // EventLoop::remove_reader() / remove_writer()
  //
  // Stops watching; returns whether a callback was registered.
  bool remove_reader(int fd);
  bool remove_writer(int fd);

  // EventLoop::add_signal_handler()
  //
  // Runs `callback` on this loop's thread each time `signum` is delivered to the
  // process. Several handlers may be added for one signal; cancelling a returned
  // Handler removes only that one. Signal handlers do not keep run() going.
  // An invalid or uncatchable signal throws std::invalid_argument, and so do the
  // synchronous fault signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP): a
  // handler that returns would resume the faulting instruction forever.
  Handler add_signal_handler(int signum, Callback callback);

  // EventLoop::remove_signal_handler()
  //
  // Removes every handler for `signum`; returns whether there was any.
  bool remove_signal_handler(int signum);

  // EventLoop::switch_to()
  //
  // Suspends the calling task (or the thread's main context) and runs the loop,
  // starting it if needed. The caller resumes only when something wakes it
  // (a kill or Timeout delivery does). Inside a loop callback: std::runtime_error.
  void switch_to();

  // EventLoop::set_stall_threshold()
  //
  // Turns the stall detector on for this loop (or off, with std::nullopt): a
  // task or callback (or the main context between two blocking calls) that
  // keeps the loop's thread longer than `threshold` without yielding is
  // reported once, while it still runs, through the report handler
  // (evergreen/loop/report.h; stderr by default):
  //   evergreen: stall: task 'resize' on thread 4711 has run for 0.310s without
  //   yielding (threshold 0.100s), inside system call clock_nanosleep; stack: #0 ...
  // Wall-clock time: a task stuck in a blocking system call that escaped
  // //patch is caught too, and the call is named. The loop's thread is sent
  // the signal SIGRTMAX-2 for its stack, so a call the kernel never restarts
  // (sleep, nanosleep, poll) returns early with EINTR once per stall. The
  // default is off, or EVERGREEN_STALL_MS (milliseconds) when set. Off, the
  // loop pays one counter increment per switch. A threshold that is not
  // positive throws std::invalid_argument.
  void set_stall_threshold(std::optional<Duration> threshold);

  // EventLoop::run()
  //
  // Runs the loop until no callback, timer or I/O watcher is left (tasks blocked
  // forever on a primitive do not keep it running), or until stop(). Must be
  // called from the thread's main context, not from a task or callback. Throws
  // std::runtime_error if the loop already ran to completion.
  void run();

  // EventLoop::run_forever()
  //
  // Like run(), but keeps waiting for work until stop() is called.
  void run_forever();

  // EventLoop::stop()
  //
  // Makes run()/run_forever() return after the current iteration. Throws
  // std::runtime_error if the loop never ran.
  void stop();

  // EventLoop::destroy()
  //
  // Discards everything still scheduled, kills every task still alive
  // (delivering TaskExit so their destructors run) and frees the loop's
  // resources; afterwards a new loop may be created on this thread. Throws
  // std::runtime_error while the loop is running (from a task or callback), when
  // called twice, or from another thread.
  void destroy();

 private:
  friend class internal::Scheduler;  // Scheduler::current()

  std::unique_ptr<internal::LoopCore> core_;
  // Shared with the core so call_from_thread() racing destroy() on another
  // thread finds a closed queue, never a freed one.
  std::shared_ptr<internal::CrossThreadQueue> cross_thread_queue_;
  bool destroyed_ = false;
};

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_EVENT_LOOP_H_
