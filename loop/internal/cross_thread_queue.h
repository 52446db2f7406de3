// Callbacks handed to a loop by other threads (EventLoop::call_from_thread).
//
// Producers take a mutex only long enough to append. The loop is woken through
// an eventfd, but only when it is about to sleep or sleeping: a busy loop checks
// an atomic flag each iteration instead, so no system call is spent per
// callback while the loop is running. While it sleeps, only the first push
// writes the eventfd (it clears the sleeping flag), so a burst of pushes from
// any number of threads costs one wake-up. A loop that spins on has_pending()
// before sleeping (cross_thread_spin.h) has not called begin_sleep(), so
// pushes meanwhile write nothing.
#ifndef EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_QUEUE_H_
#define EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_QUEUE_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "evergreen/loop/internal/poller.h"

namespace evergreen::internal {

struct CallbackRecord;

class CrossThreadQueue final : public PollHandler {
 public:
  CrossThreadQueue();
  ~CrossThreadQueue() override;
  CrossThreadQueue(const CrossThreadQueue&) = delete;
  CrossThreadQueue& operator=(const CrossThreadQueue&) = delete;

  // The eventfd the loop polls.
  int wake_fd() const { return wake_fd_; }

  // Any thread. Returns false (and drops nothing: the caller still owns the
  // record) once close() was called.
  bool push(std::shared_ptr<CallbackRecord> record);

  // Loop thread: whether callbacks are waiting. One atomic load.
  bool has_pending() const { return pending_.load(std::memory_order_acquire); }

  // Loop thread: moves every waiting callback into `out`, in push order.
  void drain(std::vector<std::shared_ptr<CallbackRecord>>& out);

  // Loop thread, around a poll that may block. Returns false if callbacks are
  // already waiting (so the poll must not block).
  bool begin_sleep();
  void end_sleep();
  // Loop thread: the eventfd is readable; consume the wake-up.
  void on_poll_events(uint32_t events) override;

  // Whether the loop is between begin_sleep() and end_sleep() and no push
  // has woken it yet (for tests: a spinning loop is not sleeping).
  bool sleeping() const { return sleeping_.load(std::memory_order_seq_cst); }

  // How many times push() wrote the eventfd (for tests of the wake-up rule).
  uint64_t wakeups_written() const { return wakeups_written_.load(std::memory_order_relaxed); }

  // Refuses further pushes.
  void close();
  // Any thread: whether close() was called (the loop is being destroyed, so
  // nothing pushed from now on will run).
  bool closed();

 private:
  int wake_fd_ = -1;
  std::mutex mutex_;
  std::vector<std::shared_ptr<CallbackRecord>> records_;
  bool closed_ = false;
  std::atomic<bool> pending_{false};
  std::atomic<bool> sleeping_{false};
  std::atomic<uint64_t> wakeups_written_{0};
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_QUEUE_H_
