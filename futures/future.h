// evergreen/futures/future.h
//
// Future: the result of a call submitted to an Executor, as in Python's
// concurrent.futures, but cooperative: waiting for one blocks only the
// calling task (or the thread's main context, whose first blocking call runs
// the loop), never the thread.
//
//   TaskPoolExecutor executor(8);
//   Future<std::string> page = executor.submit(fetch, url);
//   ...
//   std::string body = page.get(5s);   // blocks this task up to 5 s
//
// Guarantees:
// - A Future is a cheap, copyable handle to shared state; every copy (and
//   the type-erased FutureBase it converts to) sees the same call, and `==`
//   tells whether two handles share it.
// - get() may be called any number of times, from any handle: it returns the
//   value, or re-throws the call's exception, each time.
// - cancel() succeeds only before the call starts; a cancelled call never
//   runs.
// - Done callbacks run once, in the order they were added, when the call
//   finishes or is cancelled (at once if it already did); an exception
//   escaping one is reported (evergreen/loop/report.h; stderr by default)
//   and ignored.
// - Single-loop object: a future belongs to the loop of the thread that
//   submitted its call. Use it on that thread only: in tasks and the main
//   context, and (for the members that do not block, or get() on a future
//   already done) in loop callbacks. ThreadPoolExecutor's worker threads
//   hand their results back to this thread; they never touch the handle.
#ifndef EVERGREEN_FUTURES_FUTURE_H_
#define EVERGREEN_FUTURES_FUTURE_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "evergreen/futures/errors.h"
#include "evergreen/futures/internal/future_state.h"
#include "evergreen/loop/event_loop.h"

namespace evergreen::futures {

namespace internal {
struct FutureAccess;

// A Future<T> holds an object (rather than nothing, or a reference).
template <class T>
inline constexpr bool holds_object_v = !std::is_void_v<T> && !std::is_reference_v<T>;
// Future<T>::get() returns a copy (or void, or the reference).
template <class T>
inline constexpr bool get_copies_v = !holds_object_v<T> || std::is_copy_constructible_v<T>;
}  // namespace internal

// FutureBase
//
// The type-erased handle every Future<T> converts to, so that wait() and
// as_completed() can take futures of different value types together. A
// default-constructed FutureBase has no state: valid() is false and every
// other member throws std::runtime_error.
class FutureBase {
 public:
  FutureBase() = default;

  // Whether this handle refers to a call (it was not default-constructed).
  bool valid() const noexcept { return state_ != nullptr; }

  // FutureBase::cancel()
  //
  // Cancels the call if it has not started: it will never run, the future is
  // done, its done callbacks run now (in the caller) and get() throws
  // CancelledError. Returns true if the call is cancelled (also when it
  // already was), false if it is running or finished. Never blocks.
  bool cancel();

  // FutureBase::cancelled()
  //
  // True once cancel() succeeded.
  bool cancelled() const;

  // FutureBase::done()
  //
  // True once the call finished (returned or raised) or was cancelled.
  bool done() const;

  // FutureBase::get()
  //
  // Blocks the calling task until the call is done, or until `timeout`
  // passes (std::nullopt: no limit; zero: just check). Throws TimeoutError
  // on timeout, CancelledError if the call was cancelled, or the call's own
  // exception if it raised. Raises a kill or Timeout delivered while blocked;
  // throws std::runtime_error when it would block inside a loop callback.
  // Future<T>::get() does the same and also returns the value.
  void get(std::optional<Duration> timeout = std::nullopt) const;
  // Any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  void get(std::chrono::duration<Rep, Period> timeout) const {
    get(std::optional<Duration>(to_duration(timeout)));
  }

  // FutureBase::add_done_callback()
  //
  // Calls `callback` with a handle to this future once the call finishes or
  // is cancelled, after the callbacks added before it; if that already
  // happened, calls it now. An exception escaping the callback is reported
  // through the report handler (stderr by default) and ignored. The callback
  // runs wherever the future completes
  // (a worker task, a loop callback for ThreadPoolExecutor, the task calling
  // cancel()), so it should not block.
  void add_done_callback(absl::AnyInvocable<void(FutureBase&)> callback);

  // Whether both handles refer to the same call.
  friend bool operator==(const FutureBase& a, const FutureBase& b) noexcept {
    return a.state_ == b.state_;
  }

  // For hash containers (std::hash<FutureBase> below, and absl::Hash).
  template <class H>
  friend H AbslHashValue(H hash, const FutureBase& future) {
    return H::combine(std::move(hash), future.state_.get());
  }

 protected:
  explicit FutureBase(std::shared_ptr<internal::FutureStateBase> state)
      : state_(std::move(state)) {}
  // The shared state, for a call of `member`; throws std::runtime_error for
  // a handle without one and std::logic_error off the future's thread.
  internal::FutureStateBase& state(const char* member) const;

  std::shared_ptr<internal::FutureStateBase> state_;

 private:
  friend struct internal::FutureAccess;
};

// Future<T>
//
// The typed handle Executor::submit() returns. T is what the call returns:
// a value type, an lvalue reference (the referred object must outlive the
// future's use), or void.
template <class T>
class Future : public FutureBase {
 public:
  Future() = default;

  // Recovers the typed handle from a type-erased one (from as_completed(),
  // wait() or a done callback). Throws std::invalid_argument if `base`
  // belongs to a call returning another type.
  explicit Future(const FutureBase& base) : FutureBase(base) {
    if (valid() && state_->value_type() != typeid(std::type_identity<T>)) {
      throw std::invalid_argument(
          "evergreen: Future<T>(FutureBase): the future's call returns another type");
    }
  }

  // Future<T>::get()
  //
  // Blocks and throws exactly as FutureBase::get(), then returns a copy of
  // the value (the future keeps its own, so get() may be called again), the
  // reference the call returned, or nothing for void.
  T get(std::optional<Duration> timeout = std::nullopt) const
    requires internal::get_copies_v<T>
  {
    internal::FutureState<T>& state = typed_state("get");
    state.wait_for_outcome(timeout);
    if constexpr (std::is_void_v<T>) {
      return;
    } else if constexpr (std::is_reference_v<T>) {
      return *state.slot.pointer;
    } else {
      return held_value(state);
    }
  }

  // For a T that cannot be copied (std::unique_ptr, a stream), get() returns
  // a const reference to the value the shared state holds: valid while any
  // handle to this future exists. Use take() to own the value.
  // (Declared decltype(auto), which is const T&, so that Future<void> does not
  // form a reference to void.)
  decltype(auto) get(std::optional<Duration> timeout = std::nullopt) const
    requires(!internal::get_copies_v<T>)
  {
    internal::FutureState<T>& state = typed_state("get");
    state.wait_for_outcome(timeout);
    return std::as_const(held_value(state));
  }

  // get() with any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  decltype(auto) get(std::chrono::duration<Rep, Period> timeout) const {
    return get(std::optional<Duration>(to_duration(timeout)));
  }

  // Future<T>::take()
  //
  // Blocks and throws exactly as get(), then moves the value out of the
  // shared state and returns it: for move-only results, or to avoid copying
  // a large one. Afterwards get() and take() on every handle to this future
  // throw std::runtime_error.
  T take(std::optional<Duration> timeout = std::nullopt) const
    requires internal::holds_object_v<T>
  {
    internal::FutureState<T>& state = typed_state("take");
    state.wait_for_outcome(timeout);
    T value = std::move(held_value(state));
    state.slot.value.reset();
    return value;
  }
  // Any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  T take(std::chrono::duration<Rep, Period> timeout) const
    requires internal::holds_object_v<T>
  {
    return take(std::optional<Duration>(to_duration(timeout)));
  }

 private:
  friend struct internal::FutureAccess;
  explicit Future(std::shared_ptr<internal::FutureState<T>> state) : FutureBase(std::move(state)) {}

  internal::FutureState<T>& typed_state(const char* member) const {
    return static_cast<internal::FutureState<T>&>(state(member));
  }
  static auto& held_value(internal::FutureState<T>& state) {
    if (!state.slot.value) {
      throw std::runtime_error("evergreen: Future::get(): the value was moved out by take()");
    }
    return *state.slot.value;
  }
};

namespace internal {

// How executors and the waiting functions reach a handle's state.
struct FutureAccess {
  static FutureBase make_base(std::shared_ptr<FutureStateBase> state) {
    return FutureBase(std::move(state));
  }
  template <class T>
  static Future<T> make(std::shared_ptr<FutureState<T>> state) {
    return Future<T>(std::move(state));
  }
  static const std::shared_ptr<FutureStateBase>& state(const FutureBase& future) {
    return future.state_;
  }
};

}  // namespace internal
}  // namespace evergreen::futures

template <>
struct std::hash<evergreen::futures::FutureBase> {
  size_t operator()(const evergreen::futures::FutureBase& future) const noexcept {
    return std::hash<const void*>()(
        evergreen::futures::internal::FutureAccess::state(future).get());
  }
};

template <class T>
struct std::hash<evergreen::futures::Future<T>> : std::hash<evergreen::futures::FutureBase> {};

// wait() and as_completed() come with Future, as in concurrent.futures.
#include "evergreen/futures/wait.h"

#endif  // EVERGREEN_FUTURES_FUTURE_H_
