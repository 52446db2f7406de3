// evergreen/futures/executor.h
//
// Executors run calls concurrently and hand back a Future for each, as in
// Python's concurrent.futures:
// - TaskPoolExecutor runs them in up to max_workers tasks on this thread's
//   loop: for calls that block cooperatively (evergreen I/O, sleep, locks).
// - ThreadPoolExecutor runs them on up to max_workers OS threads: for calls
//   that block the thread (::getaddrinfo, file I/O, a C library, heavy
//   computation). Results come back to the loop's thread through
//   EventLoop::call_from_thread, so the loop keeps serving other tasks
//   meanwhile, and a task waiting on such a future blocks only itself.
//
//   TaskPoolExecutor executor(100);
//   for (std::string& body : executor.map(fetch, urls)) std::cout << body.size() << "\n";
//
// Guarantees:
// - At most max_workers calls run at once; calls start in submission order.
// - shutdown() refuses new calls and lets the queued ones finish; the
//   destructor shuts down and waits, as shutdown(true).
// - An executor belongs to the loop of the thread that constructed it: call
//   its members there (in tasks or the main context; in loop callbacks only
//   what does not block). The calls given to a ThreadPoolExecutor run on its
//   threads and must not use that loop or its futures.
#ifndef EVERGREEN_FUTURES_EXECUTOR_H_
#define EVERGREEN_FUTURES_EXECUTOR_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include "evergreen/futures/future.h"
#include "evergreen/futures/internal/bound_call.h"
#include "evergreen/futures/internal/completion_watch.h"
#include "evergreen/futures/map_results.h"
#include "evergreen/futures/wait.h"
#include "evergreen/loop/event_loop.h"

namespace evergreen::futures {

namespace internal {
class TaskPool;
class ThreadPool;
}  // namespace internal

// Executor
//
// The interface both executors share; use it to write code that takes either.
class Executor {
 public:
  virtual ~Executor() = default;
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Executor::submit()
  //
  // Schedules fn(args...) and returns the Future of its result. The callable
  // and the arguments are copied or moved in (move-only ones work; wrap a
  // reference in std::ref) and invoked once, as rvalues. Never blocks.
  // Throws std::runtime_error after shutdown() or once the executor's loop
  // was destroyed, and std::logic_error when called from a thread other than
  // the loop's (builds without NDEBUG; the check is compiled out under
  // NDEBUG, where that case throws std::runtime_error). shutdown() checks
  // the thread the same way.
  template <class F, class... Args>
  Future<internal::submit_result_t<F, Args...>> submit(F&& fn, Args&&... args);

  // Executor::map()
  //
  // Submits fn(item) for every item of `inputs` (each call gets copies of fn
  // and of the item) and returns a range yielding the results in input
  // order; see MapResults for when it blocks and what it throws. The
  // results must be ready before `timeout` has passed since this call
  // (std::nullopt: no limit). Throws as submit().
  template <class F, std::ranges::input_range Range>
  MapResults<internal::submit_result_t<F&, std::ranges::range_reference_t<Range>>> map(
      F fn, Range&& inputs, std::optional<Duration> timeout = std::nullopt);
  // Any std::chrono::duration, rounded up.
  template <class F, std::ranges::input_range Range, class Rep, class Period>
  auto map(F fn, Range&& inputs, std::chrono::duration<Rep, Period> timeout) {
    return map(std::move(fn), std::forward<Range>(inputs),
               std::optional<Duration>(to_duration(timeout)));
  }

  // Executor::shutdown()
  //
  // Refuses further submit() and map() calls; the calls already submitted
  // still run. With `wait`, blocks the calling task until they are all done
  // and the workers have exited. Calling it again is harmless. With `wait`:
  // raises a kill or Timeout delivered while blocked; throws
  // std::runtime_error inside a loop callback, off the executor's loop, or
  // from one of a TaskPoolExecutor's own workers (it would wait for itself).
  virtual void shutdown(bool wait = true) = 0;

 protected:
  Executor() = default;
  // Queues a submitted call. Throws as submit().
  virtual void enqueue(std::shared_ptr<internal::FutureStateBase> job) = 0;
};

// TaskPoolExecutor
//
// Runs calls in at most max_workers tasks on the loop of the constructing
// thread. Workers start as calls arrive and idle workers cost only their
// stacks; they do not keep EventLoop::run() going. Done callbacks of its
// futures run in the worker task that ran the call.
class TaskPoolExecutor final : public Executor {
 public:
  // Binds to this thread's loop (the main thread's is created on demand).
  // Throws std::invalid_argument if max_workers is 0.
  explicit TaskPoolExecutor(size_t max_workers);
  // shutdown(true). Where it cannot block (in a loop callback, after the
  // loop ran to completion or was destroyed), it only shuts down: the
  // workers finish the queued calls on their own.
  ~TaskPoolExecutor() override;

  void shutdown(bool wait = true) override;

 protected:
  void enqueue(std::shared_ptr<internal::FutureStateBase> job) override;

 private:
  std::shared_ptr<internal::TaskPool> pool_;
};

// ThreadPoolExecutor
//
// Runs calls on at most max_workers OS threads, started as calls arrive.
// Each outcome is handed back to the loop's thread, where its future
// completes and its done callbacks run (in a loop callback, so they must not
// block). A call in flight keeps EventLoop::run() going.
class ThreadPoolExecutor final : public Executor {
 public:
  // Binds to this thread's loop (the main thread's is created on demand).
  // Throws std::invalid_argument if max_workers is 0.
  explicit ThreadPoolExecutor(size_t max_workers);
  // shutdown(true). Where it cannot block cooperatively (in a loop
  // callback, after the loop ran to completion or was destroyed), it joins
  // the threads instead, blocking the thread until the queued calls ran.
  ~ThreadPoolExecutor() override;

  void shutdown(bool wait = true) override;

 protected:
  void enqueue(std::shared_ptr<internal::FutureStateBase> job) override;

 private:
  std::unique_ptr<internal::ThreadPool> pool_;
};

// --- Implementation ------------------------------------------------------------

template <class F, class... Args>
Future<internal::submit_result_t<F, Args...>> Executor::submit(F&& fn, Args&&... args) {
  using R = internal::submit_result_t<F, Args...>;
  auto call = std::make_shared<internal::BoundCall<R, std::decay_t<F>, std::decay_t<Args>...>>(
      std::forward<F>(fn), std::forward<Args>(args)...);
  enqueue(call);
  return internal::FutureAccess::make<R>(std::move(call));
}

template <class F, std::ranges::input_range Range>
MapResults<internal::submit_result_t<F&, std::ranges::range_reference_t<Range>>> Executor::map(
    F fn, Range&& inputs, std::optional<Duration> timeout) {
  using R = internal::submit_result_t<F&, std::ranges::range_reference_t<Range>>;
  std::optional<TimePoint> deadline = internal::deadline_after(timeout);
  std::vector<Future<R>> futures;
  if constexpr (std::ranges::sized_range<Range>) futures.reserve(std::ranges::size(inputs));
  for (auto&& item : inputs) futures.push_back(submit(fn, item));
  return MapResults<R>(std::move(futures), deadline);
}

}  // namespace evergreen::futures

#endif  // EVERGREEN_FUTURES_EXECUTOR_H_
