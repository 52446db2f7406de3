#include "evergreen/futures/internal/thread_pool.h"

#include <stdexcept>
#include <utility>

#include "evergreen/loop/internal/scheduler.h"

namespace evergreen::futures::internal {

using evergreen::internal::Scheduler;

ThreadPool::ThreadPool(size_t max_threads)
    : max_threads_(max_threads), handback_(std::make_shared<Handback>()) {
  handback_->loop = &loop_.loop();
}

ThreadPool::~ThreadPool() {
  stop_threads();
  for (std::thread& thread : threads_) thread.join();
}

void ThreadPool::submit(std::shared_ptr<FutureStateBase> job) {
  if (shutdown_) {
    throw std::runtime_error("evergreen: Executor::submit() after shutdown()");
  }
  loop_.require_current("Executor::submit()");
  bool start_thread;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
    start_thread = threads_.size() < max_threads_ && threads_.size() < busy_threads_ + jobs_.size();
  }
  work_ready_.notify_one();
  ++handback_->in_flight;
  loop_.loop().retain();
  if (start_thread) threads_.emplace_back([this] { run_thread(); });
}

void ThreadPool::run_thread() {
  for (;;) {
    std::shared_ptr<FutureStateBase> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [this] { return !jobs_.empty() || stopping_; });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++busy_threads_;
    }
    // Losing the claim means cancel() came first; the loop still gets the
    // state back, to settle its accounting.
    bool ran = job->claim();
    if (ran) job->execute();  // no kill can reach an OS thread: nothing to re-raise
    hand_back(std::move(job), ran);
    std::lock_guard<std::mutex> lock(mutex_);
    --busy_threads_;
  }
}

void ThreadPool::hand_back(std::shared_ptr<FutureStateBase> job, bool ran) {
  auto on_loop = [job = std::move(job), handback = handback_, ran] {
    handback->loop->release();
    if (--handback->in_flight == 0) handback->drained.notify_all();
    if (ran) FutureStateBase::finish(job);
  };
  try {
    Scheduler::call_from_thread(loop_.queue(), std::move(on_loop));
  } catch (const std::runtime_error&) {
    // The loop was destroyed: nobody is left to hand the outcome to.
  }
}

void ThreadPool::stop_threads() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
}

void ThreadPool::shutdown(bool wait) {
  if (!shutdown_) {
    shutdown_ = true;
    stop_threads();
  }
  if (!wait) return;
  loop_.require_current("Executor::shutdown()");
  while (handback_->in_flight > 0) handback_->drained.wait("Executor::shutdown");
  // Every call was handed back, so the threads found the queue empty and
  // stopping set: they are exiting, and joining them takes microseconds.
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace evergreen::futures::internal
