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
#ifndef EVERGREEN_LOOP_TIMEOUT_H_
#define EVERGREEN_LOOP_TIMEOUT_H_

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
