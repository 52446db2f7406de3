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
//
// Two lanes share that rule: callback records (call_from_thread, under the
// mutex) and wake-ups of parked contexts (push_wake: an intrusive lock-free
// stack of CrossThreadWake records, one compare-and-swap per push, see
// cross_thread_wake.h). The loop reads both lanes' heads and the sleeping
// flag from one cache line, so a spinning loop notices either with one miss.
#ifndef EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_QUEUE_H_
#define EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_QUEUE_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "evergreen/fiber/internal/cache_line.h"
#include "evergreen/loop/internal/cross_thread_wake.h"
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

  // Any thread: asks the loop to wake record->context (see
  // cross_thread_wake.h; the caller must not touch `record` afterwards).
  // Returns false, pushing nothing, once close() was called.
  bool push_wake(CrossThreadWake* record);

  // Loop thread: whether callbacks or wake-ups are waiting. Two loads from
  // one cache line.
  bool has_pending() const {
    return pending_.load(std::memory_order_acquire) || has_pending_wakes();
  }
  bool has_pending_callbacks() const { return pending_.load(std::memory_order_acquire); }
  bool has_pending_wakes() const {
    CrossThreadWake* head = wakes_.load(std::memory_order_acquire);
    return head != nullptr && head != closed_wakes();
  }

  // Loop thread: takes every pushed wake-up record, oldest first (a chain
  // through `next`; null if none) for wake_arrivals().
  CrossThreadWake* take_wakes();

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
  // How many wake-up records push_wake() queued (for tests: a waiter served
  // while it spins is woken without one).
  uint64_t wakes_pushed() const { return wakes_pushed_.load(std::memory_order_relaxed); }

  // Loop thread: refuses further pushes; wake-up records still queued are
  // marked consumed without waking anyone (the loop is being destroyed, and
  // destroy() resumes its tasks itself).
  void close();
  // Any thread: whether close() was called (the loop is being destroyed, so
  // nothing pushed from now on will run).
  bool closed();

 private:
  // The head of the wake-up stack once close() was called.
  CrossThreadWake* closed_wakes() const { return const_cast<CrossThreadWake*>(&closed_marker_); }
  // After a push: writes the eventfd if the loop sleeps (first pusher only).
  void wake_if_sleeping();

  // What every push and every check of the loop touch, on a line of its own
  // (pushers write it; the mutex and vector below are only for callbacks).
  alignas(fiber_internal::kCacheLine) std::atomic<CrossThreadWake*> wakes_{nullptr};
  std::atomic<bool> pending_{false};
  std::atomic<bool> sleeping_{false};
  alignas(fiber_internal::kCacheLine) std::atomic<uint64_t> wakeups_written_{0};
  std::atomic<uint64_t> wakes_pushed_{0};
  int wake_fd_ = -1;
  std::mutex mutex_;
  std::vector<std::shared_ptr<CallbackRecord>> records_;
  bool closed_ = false;
  CrossThreadWake closed_marker_;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_CROSS_THREAD_QUEUE_H_
