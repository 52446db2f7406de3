// Blocking file system calls, run off the loop's thread so that they block
// only the calling task.
//
// run_off_loop(call) hands `call` to a small process-wide pool of OS threads
// (kMaxThreads at most, started lazily, joined when the process exits) and
// parks the calling context (a task, or the thread's main context) until the
// result is handed back through the loop's cross-thread queue. The call holds
// a loop keep-alive while it is in flight, so EventLoop::run() and a blocked
// main context wait for it.
//
// The wait is uninterruptible: a kill or Timeout delivered meanwhile is raised
// only once the pool thread has finished `call`, so `call` may read and write
// the caller's memory (its buffers, its stack) without copies. When the loop
// is destroyed during the call (nothing will be handed back any more), the
// thread waits for the pool thread outright before the task unwinds.
//
// This is the epoll backend's path for regular files, and both backends'
// path for open() and fstat(); on io_uring, reads, writes and fsyncs go to
// the ring instead (file_call.h decides).
#ifndef EVERGREEN_IO_INTERNAL_FILE_POOL_H_
#define EVERGREEN_IO_INTERNAL_FILE_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"

namespace evergreen::internal {
struct BlockingContext;
}  // namespace evergreen::internal

namespace evergreen::io::internal {

// Runs `call` (which must not throw) on a pool thread while the calling
// context parks; returns once it has run, then raises a kill or Timeout that
// arrived meanwhile (or was already pending: then `call` never runs). Throws
// std::runtime_error inside a loop callback.
void run_off_loop(absl::AnyInvocable<void() &&> call);

// run_off_loop() for callers that must not throw (//patch's interposed C
// calls): `self` is the calling context (current_blocking_context()), which
// the caller has checked has nothing pending. Runs `call` the same way but
// raises nothing: a kill or Timeout that arrives meanwhile stays pending on
// `self` for its next suspension point. Throws only what parking the main
// context throws (a task's wait never throws) and std::bad_alloc before
// `call` is queued.
void run_off_loop_leaving_pending(evergreen::internal::BlockingContext& self,
                                  absl::AnyInvocable<void() &&> call);

// The threads behind run_off_loop(). Thread-safe.
class FilePool {
 public:
  static constexpr size_t kMaxThreads = 4;

  // The process-wide pool; its threads are joined at exit.
  static FilePool& instance();

  FilePool() = default;
  // Lets the threads finish what is queued, then joins them.
  ~FilePool();
  FilePool(const FilePool&) = delete;
  FilePool& operator=(const FilePool&) = delete;

  // Queues `job` and starts a thread if every thread is busy and fewer than
  // kMaxThreads run.
  void submit(absl::AnyInvocable<void() &&> job);

 private:
  void run_thread();

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<absl::AnyInvocable<void() &&>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_threads_ = 0;
  bool stopping_ = false;
};

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_FILE_POOL_H_
