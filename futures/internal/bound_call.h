// A submitted call: the callable and its arguments, stored with the future
// state in one allocation, and the rule that picks the Future's value type.
#ifndef EVERGREEN_FUTURES_INTERNAL_BOUND_CALL_H_
#define EVERGREEN_FUTURES_INTERNAL_BOUND_CALL_H_

#include <exception>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "evergreen/futures/internal/future_state.h"
#include "evergreen/loop/task.h"

namespace evergreen::futures::internal {

// The value type of the Future for a call returning R: an lvalue reference
// stays a reference (the call hands out an object that lives elsewhere); an
// rvalue reference or a const value becomes a plain value the future owns.
template <class R>
using future_value_t = std::conditional_t<std::is_lvalue_reference_v<R>, R, std::remove_cvref_t<R>>;

// The value type of submit(fn, args...): the callable and the arguments are
// stored as decayed copies and invoked once, as rvalues.
template <class F, class... Args>
using submit_result_t =
    future_value_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;

template <class R, class F, class... Args>
class BoundCall final : public FutureState<R> {
 public:
  template <class G, class... A>
  explicit BoundCall(G&& fn, A&&... args)
      : call_(std::in_place, std::forward<G>(fn), std::forward<A>(args)...) {}

  std::exception_ptr execute() noexcept override {
    std::exception_ptr kill;
    try {
      this->slot.fill([this]() -> R {
        return std::apply(
            [](F& fn, Args&... args) -> R {
              return std::invoke(std::move(fn), std::move(args)...);
            },
            *call_);
      });
    } catch (const TaskExit&) {
      if (Task::current() == nullptr) {
        // An OS thread (ThreadPoolExecutor) runs no task, so nothing can
        // kill it: the call threw TaskExit itself. Say so, and re-raise
        // nothing: there is no task to end.
        this->set_exception(call_raised_task_exit_error());
      } else {
        kill = std::current_exception();
        this->set_exception(killed_worker_error());
      }
    } catch (...) {
      this->set_exception(std::current_exception());
    }
    call_.reset();
    return kill;
  }

  void drop_call() noexcept override { call_.reset(); }

 private:
  std::optional<std::tuple<F, Args...>> call_;
};

}  // namespace evergreen::futures::internal

#endif  // EVERGREEN_FUTURES_INTERNAL_BOUND_CALL_H_
