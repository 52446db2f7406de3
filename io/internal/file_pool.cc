#include "evergreen/io/internal/file_pool.h"

#include <signal.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <utility>

#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/scheduler.h"

namespace evergreen::io::internal {
namespace {

using evergreen::internal::BlockingContext;
using evergreen::internal::CrossThreadQueue;
using evergreen::internal::Scheduler;

// One run_off_loop() call, shared by the caller, the pool thread and the
// hand-back callback, so none of them outlives what it touches.
struct OffLoopCall {
  absl::AnyInvocable<void() &&> call;
  std::shared_ptr<CrossThreadQueue> queue;  // the caller's loop
  BlockingContext* waiter = nullptr;        // loop thread only; null: gone
  bool handed_back = false;                 // loop thread only
  std::atomic<bool> done{false};            // set by the pool thread
};

void run_on_pool_thread(const std::shared_ptr<OffLoopCall>& job) {
  std::move(job->call)();
  job->call = nullptr;  // release what it captured here, off the loop
  std::shared_ptr<CrossThreadQueue> queue = std::move(job->queue);
  job->done.store(true, std::memory_order_release);
  job->done.notify_all();
  try {
    Scheduler::call_from_thread(*queue, [job] {
      job->handed_back = true;
      if (job->waiter != nullptr) evergreen::internal::wake(*job->waiter);
    });
  } catch (const std::runtime_error&) {
    // The loop is being destroyed: its task saw `done` instead.
  }
}

}  // namespace

void run_off_loop(absl::AnyInvocable<void() &&> call) {
  BlockingContext& self = evergreen::internal::current_blocking_context();
  evergreen::internal::raise_pending(self);
  run_off_loop_leaving_pending(self, std::move(call));
  evergreen::internal::raise_pending(self);
}

void run_off_loop_leaving_pending(BlockingContext& self, absl::AnyInvocable<void() &&> call) {
  Scheduler& loop = *self.loop;
  auto job = std::make_shared<OffLoopCall>();
  job->call = std::move(call);
  job->queue = loop.cross_thread_queue();
  job->waiter = &self;
  const std::shared_ptr<CrossThreadQueue> queue = job->queue;
  Scheduler::KeepAlive keep_alive(loop);
  FilePool::instance().submit([job] { run_on_pool_thread(job); });
  while (!job->handed_back) {
    try {
      evergreen::internal::park(self);
    } catch (...) {
      // The main context's loop stopped under it: it returns, so the caller's
      // memory must be left alone first.
      job->done.wait(false, std::memory_order_acquire);
      job->waiter = nullptr;
      throw;
    }
    if (job->handed_back) break;
    // Woken by a kill or Timeout: keep waiting, unless the loop is being
    // destroyed and nothing will be handed back; then block the thread until
    // the pool thread is done with the caller's memory.
    if (queue->closed()) {
      job->done.wait(false, std::memory_order_acquire);
      break;
    }
  }
}

FilePool& FilePool::instance() {
  static FilePool pool;
  return pool;
}

FilePool::~FilePool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void FilePool::submit(absl::AnyInvocable<void() &&> job) {
  bool start_thread = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
    if (jobs_.size() > idle_threads_ && threads_.size() < kMaxThreads) {
      start_thread = true;
      threads_.emplace_back([this] { run_thread(); });
    }
  }
  if (!start_thread) work_ready_.notify_one();
}

void FilePool::run_thread() {
  // Signals go to the loops' threads; a pool thread's system calls are then
  // never interrupted by one.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    ++idle_threads_;
    work_ready_.wait(lock, [this] { return !jobs_.empty() || stopping_; });
    --idle_threads_;
    if (jobs_.empty()) return;
    absl::AnyInvocable<void()&&> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    std::move(job)();
    lock.lock();
  }
}

}  // namespace evergreen::io::internal
