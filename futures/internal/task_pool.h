// The machinery behind TaskPoolExecutor: a FIFO of submitted calls and up to
// max_workers tasks that take calls from it, on one loop.
//
// Workers start lazily: a submit wakes an idle worker if there is one, and
// otherwise starts a new one while fewer than max_workers exist. Each worker
// runs one call at a time, so at most max_workers calls run at once. An idle
// worker waits on a wait queue, which does not keep EventLoop::run() going.
// Workers share ownership of the pool, so it outlives an executor destroyed
// while they still drain its queue.
#ifndef EVERGREEN_FUTURES_INTERNAL_TASK_POOL_H_
#define EVERGREEN_FUTURES_INTERNAL_TASK_POOL_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

#include "evergreen/futures/internal/future_state.h"
#include "evergreen/futures/internal/loop_binding.h"
#include "evergreen/loop/internal/wait_queue.h"
#include "evergreen/loop/task.h"

namespace evergreen::futures::internal {

class TaskPool : public std::enable_shared_from_this<TaskPool> {
 public:
  // Binds to this thread's loop. max_workers must be positive.
  explicit TaskPool(size_t max_workers);
  // Cancels calls still queued: only when the loop died with them.
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Throws std::logic_error off the loop's thread (builds without NDEBUG);
  // the executor calls it first in each public member, naming itself.
  void check_thread(const void* executor, const char* type, const char* member) const {
    loop_.check_thread(executor, type, member);
  }
  // Queues `job`. Throws std::runtime_error after shutdown or off the loop.
  void submit(std::shared_ptr<FutureStateBase> job);
  // See Executor::shutdown().
  void shutdown(bool wait);
  // Whether shutdown(true) could block here without deadlock or error.
  bool can_wait_here() const;

 private:
  void start_worker();
  void run_worker();
  bool is_own_worker() const;

  LoopBinding loop_;
  const size_t max_workers_;
  size_t live_workers_ = 0;  // started and not yet exited
  bool shutdown_ = false;
  std::deque<std::shared_ptr<FutureStateBase>> jobs_;
  std::vector<const Task*> worker_tasks_;  // those whose body began
  evergreen::internal::WaitQueue idle_workers_;
  evergreen::internal::WaitQueue shutdown_waiters_;
};

}  // namespace evergreen::futures::internal

#endif  // EVERGREEN_FUTURES_INTERNAL_TASK_POOL_H_
