// evergreen/loop/timeout.h
//
// Timeout: a scoped deadline for the current task (or main context).
//
//   try {
//     Timeout deadline(2s);
//     auto line = stream.read_until("\n");   // raises Timeout after 2 s
//   } catch (const Timeout& t) { ... }
//
// Construction arms a timer; if it fires before the Timeout is cancelled or
// destroyed, a copy of the Timeout (or the exception given to the constructor)
// is raised in the context that created it, at its suspension point. Nested
// timeouts are told apart with is(): `e.is(outer)` is true only for the
// Timeout that fired. Like TaskExit, Timeout does not derive from
// std::exception. Must be created, used and destroyed on one thread, in a task
// or the main context, and destroyed (or cancelled) before the task that
// created it ends: it delivers into that task. Scoped use, as above, does so.
//
// Destructors that block: a Timeout armed in a scope is still armed while
// the destructors of the objects in that scope run, and so is an outer one
// while an exception unwinds. A blocking call in a destructor (flushing a
// stream, joining a task) can then raise the Timeout, and an exception
// escaping a destructor during unwinding calls std::terminate. Such a
// destructor must block inside a CancellationShield (evergreen/loop/shield.h):
// the Timeout then fires after the shield, exactly once.
#ifndef EVERGREEN_LOOP_TIMEOUT_H_
#define EVERGREEN_LOOP_TIMEOUT_H_

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "evergreen/loop/event_loop.h"

namespace evergreen {

class Timeout {
 public:
  // Arms a timer that raises this Timeout after `duration`; std::nullopt or a
  // negative duration never fires. Throws std::runtime_error in a loop callback.
  explicit Timeout(std::optional<Duration> duration);
  // Same, raising `error` instead.
  Timeout(std::optional<Duration> duration, std::exception_ptr error);
  // Any std::chrono::duration (Timeout t(1.5s)), rounded away from zero (see
  // evergreen/loop/duration.h).
  template <class Rep, class Period>
  explicit Timeout(std::chrono::duration<Rep, Period> duration)
      : Timeout(std::optional<Duration>(to_duration(duration))) {}
  template <class Rep, class Period>
  Timeout(std::chrono::duration<Rep, Period> duration, std::exception_ptr error)
      : Timeout(std::optional<Duration>(to_duration(duration)), std::move(error)) {}
  // A deadline: fires when steady_clock reaches `deadline` (at once if it
  // has passed). duration() and start() then use the time that was left
  // when it was created.
  explicit Timeout(TimePoint deadline);
  Timeout(TimePoint deadline, std::exception_ptr error);
  template <class D>
  explicit Timeout(std::chrono::time_point<std::chrono::steady_clock, D> deadline)
      : Timeout(to_time_point(deadline)) {}
  // The copy raised when a Timeout fires: it identifies the original (is())
  // but owns no timer.
  Timeout(const Timeout& other);
  Timeout& operator=(const Timeout&) = delete;
  // Cancels the timer (if this is the original).
  ~Timeout();

  // Timeout::start()
  //
  // Re-arms with the same duration after cancel() or after it fired. Throws
  // std::logic_error while armed.
  void start();

  // Timeout::cancel()
  //
  // Disarms the timer; if it already fired and the exception was not raised
  // yet, withdraws it.
  void cancel();

  // Whether this is (a copy of) `other`.
  bool is(const Timeout& other) const { return state_ == other.state_; }

  // Whether the timer fired since it was last armed.
  bool fired() const;

  std::optional<Duration> duration() const;

 private:
  struct State;
  explicit Timeout(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
  bool owner_;
};

// with_timeout()
//
// Runs fn() under a Timeout of `duration`: returns its result, or an empty
// optional if the timeout fired (the seed's exception=False). For a void fn,
// returns whether fn completed. Another Timeout or exception propagates.
template <class F>
auto with_timeout(std::optional<Duration> duration, F&& fn);
// Any std::chrono::duration, rounded away from zero.
template <class Rep, class Period, class F>
auto with_timeout(std::chrono::duration<Rep, Period> duration, F&& fn) {
  return with_timeout(std::optional<Duration>(to_duration(duration)), std::forward<F>(fn));
}

template <class F>
auto with_timeout(std::optional<Duration> duration, F&& fn) {
  using Result = std::invoke_result_t<F>;
  Timeout timeout(duration);
  try {
    if constexpr (std::is_void_v<Result>) {
      std::forward<F>(fn)();
      return true;
    } else {
      return std::optional<Result>(std::forward<F>(fn)());
    }
  } catch (const Timeout& fired) {
    if (!fired.is(timeout)) throw;
    if constexpr (std::is_void_v<Result>) {
      return false;
    } else {
      return std::optional<Result>();
    }
  }
}

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_TIMEOUT_H_
