#include "evergreen/futures/internal/task_pool.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace evergreen::futures::internal {

TaskPool::TaskPool(size_t max_workers) : max_workers_(max_workers) {}

TaskPool::~TaskPool() {
  for (std::shared_ptr<FutureStateBase>& job : jobs_) {
    try {
      FutureStateBase::cancel(job);
    } catch (...) {
      // A kill a done callback received: there is no task left to raise it in.
    }
  }
}

void TaskPool::submit(std::shared_ptr<FutureStateBase> job) {
  if (shutdown_) {
    throw std::runtime_error("evergreen: Executor::submit() after shutdown()");
  }
  loop_.require_current("Executor::submit()");
  jobs_.push_back(std::move(job));
  if (!idle_workers_.notify_one() && live_workers_ < max_workers_) start_worker();
}

void TaskPool::start_worker() {
  auto worker = std::make_shared<Task>([pool = shared_from_this()] { pool->run_worker(); },
                                       "TaskPoolExecutor worker");
  worker->start();
  ++live_workers_;
}

void TaskPool::run_worker() {
  worker_tasks_.push_back(Task::current());
  struct Exit {
    ~Exit() {
      auto& tasks = pool.worker_tasks_;
      tasks.erase(std::find(tasks.begin(), tasks.end(), Task::current()));
      --pool.live_workers_;
      pool.shutdown_waiters_.notify_all();
    }
    TaskPool& pool;
  } exit{*this};

  for (;;) {
    if (!jobs_.empty()) {
      std::shared_ptr<FutureStateBase> job = std::move(jobs_.front());
      jobs_.pop_front();
      if (!job->claim()) continue;  // cancelled while queued
      job->mark_running();
      std::exception_ptr kill = job->execute();
      FutureStateBase::finish(job);
      if (kill) std::rethrow_exception(kill);
      continue;
    }
    // Queued calls are drained first: shutdown lets pending calls finish.
    if (shutdown_) return;
    idle_workers_.wait("TaskPoolExecutor: waiting for work");
  }
}

bool TaskPool::is_own_worker() const {
  const Task* current = Task::current();
  return current != nullptr &&
         std::find(worker_tasks_.begin(), worker_tasks_.end(), current) != worker_tasks_.end();
}

void TaskPool::shutdown(bool wait) {
  if (!shutdown_) {
    shutdown_ = true;
    idle_workers_.notify_all();
  }
  if (!wait) return;
  loop_.require_current("Executor::shutdown()");
  if (is_own_worker()) {
    throw std::runtime_error(
        "evergreen: Executor::shutdown(wait=true) called by one of the executor's own workers "
        "would wait for itself");
  }
  while (live_workers_ > 0) shutdown_waiters_.wait("Executor::shutdown");
}

bool TaskPool::can_wait_here() const { return loop_.can_block_here() && !is_own_worker(); }

}  // namespace evergreen::futures::internal
