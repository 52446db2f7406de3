// evergreen/futures/loop_group_executor.h
//
// Futures for work on the loops of a LoopGroup:
// - submit_to(group, i, fn, args...) runs fn(args...) in a new task on loop
//   i and returns a Future that belongs to the caller's loop and completes
//   there: its get() blocks only the caller.
// - LoopGroupExecutor is an Executor whose submit() spreads calls
//   round-robin over the group's loops, so map() uses every core.
//
//   LoopGroup group;
//   futures::LoopGroupExecutor executor(group);
//   for (Digest& d : executor.map(hash_file, paths)) ...
//
// Guarantees:
// - Callable from a task, from a thread's main context (the main thread's
//   loop is made on demand) and from a task on a loop of the same group
//   (even loop i itself). The caller's loop keeps running while calls are in
//   flight and EventLoop::run() waits for them.
// - The callable and arguments are copied or moved in and invoked once, on
//   the target loop, as for Executor::submit(); an exception escaping the
//   call is stored in the future and re-thrown by get().
// - If the group stops before a call started, its future is cancelled
//   (get() throws CancelledError); if the call's task is killed while it
//   runs, the future holds the killed-worker error, as for TaskPoolExecutor.
// - cancel() on the future succeeds until the target loop starts the call.
// - submit_to() throws what LoopGroup::post() throws: std::out_of_range for
//   an index >= group.size(), std::runtime_error once the group is stopped.
#ifndef EVERGREEN_FUTURES_LOOP_GROUP_EXECUTOR_H_
#define EVERGREEN_FUTURES_LOOP_GROUP_EXECUTOR_H_

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "evergreen/futures/executor.h"
#include "evergreen/futures/future.h"
#include "evergreen/futures/internal/bound_call.h"
#include "evergreen/futures/internal/group_dispatch.h"
#include "evergreen/futures/internal/loop_binding.h"
#include "evergreen/loop/loop_group.h"

namespace evergreen::futures {

// submit_to()
//
// See the file comment.
template <class F, class... Args>
Future<internal::submit_result_t<F, Args...>> submit_to(LoopGroup& group, size_t i, F&& fn,
                                                        Args&&... args) {
  using R = internal::submit_result_t<F, Args...>;
  auto call = std::make_shared<internal::BoundCall<R, std::decay_t<F>, std::decay_t<Args>...>>(
      std::forward<F>(fn), std::forward<Args>(args)...);
  internal::dispatch_to_group(group, i, call, nullptr);
  return internal::FutureAccess::make<R>(std::move(call));
}

// LoopGroupExecutor
//
// An Executor over a LoopGroup: call k of submit() (and map()) runs on loop
// k mod group.size(). Results come back to the loop of the thread that
// constructed the executor, which it belongs to (see Executor). The group
// must outlive the executor.
class LoopGroupExecutor final : public Executor {
 public:
  // Binds to this thread's loop (the main thread's is created on demand).
  explicit LoopGroupExecutor(LoopGroup& group);
  // shutdown(true), where the caller can block; otherwise only shuts down.
  ~LoopGroupExecutor() override;

  void shutdown(bool wait = true) override;

 protected:
  void enqueue(std::shared_ptr<internal::FutureStateBase> job) override;

 private:
  LoopGroup& group_;
  internal::LoopBinding loop_;
  size_t next_ = 0;
  bool shutdown_ = false;
  const std::shared_ptr<internal::InFlight> in_flight_;
};

}  // namespace evergreen::futures

#endif  // EVERGREEN_FUTURES_LOOP_GROUP_EXECUTOR_H_
