// The machinery behind ThreadPoolExecutor: a FIFO of submitted calls shared
// with up to max_threads OS threads, and the hand-back of each outcome to the
// loop's thread.
//
// The queue is the only state the threads share with the loop thread, under
// a mutex held just long enough to push or pop. A thread claims a call
// (losing to a cancel() that came first), runs it, writes the outcome into
// the future's state and hands the state back with
// EventLoop::call_from_thread; the future is completed (waiters woken,
// callbacks run) in that callback, on the loop's thread. Every call in
// flight holds a loop keep-alive (Scheduler::retain), so EventLoop::run() and
// a blocked main context keep waiting for it.
//
// Threads start lazily, one per submit while there are more calls queued or
// running than threads and fewer than max_threads threads.
#ifndef EVERGREEN_FUTURES_INTERNAL_THREAD_POOL_H_
#define EVERGREEN_FUTURES_INTERNAL_THREAD_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "evergreen/futures/internal/future_state.h"
#include "evergreen/futures/internal/loop_binding.h"

namespace evergreen::futures::internal {

class ThreadPool {
 public:
  // Binds to this thread's loop. max_threads must be positive.
  explicit ThreadPool(size_t max_threads);
  // Lets the threads finish the queued calls and joins them, blocking this
  // thread meanwhile: the last resort when no task could wait cooperatively.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Throws std::logic_error off the loop's thread (builds without NDEBUG);
  // the executor calls it first in each public member, naming itself.
  void check_thread(const void* executor, const char* type, const char* member) const {
    loop_.check_thread(executor, type, member);
  }
  // Queues `job`. Throws std::runtime_error after shutdown or off the loop.
  void submit(std::shared_ptr<FutureStateBase> job);
  // See Executor::shutdown().
  void shutdown(bool wait);
  // Whether shutdown(true) could block here (cooperatively).
  bool can_wait_here() const { return loop_.can_block_here(); }

 private:
  // Loop-thread accounting, shared with the hand-back callbacks so that they
  // never touch the pool itself (which may be gone when they run).
  struct Handback {
    evergreen::internal::Scheduler* loop = nullptr;
    size_t in_flight = 0;  // submitted and not yet handed back
    evergreen::internal::WaitQueue drained;
  };

  void run_thread();
  void hand_back(std::shared_ptr<FutureStateBase> job, bool ran);
  void stop_threads();

  LoopBinding loop_;
  const size_t max_threads_;
  // Loop thread only.
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
  const std::shared_ptr<Handback> handback_;
  // Shared with the threads, under mutex_.
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<std::shared_ptr<FutureStateBase>> jobs_;
  size_t busy_threads_ = 0;
  bool stopping_ = false;
};

}  // namespace evergreen::futures::internal

#endif  // EVERGREEN_FUTURES_INTERNAL_THREAD_POOL_H_
