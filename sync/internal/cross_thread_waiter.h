// CrossThreadWaiter: one blocked call on a primitive that several threads
// share (ThreadSafeQueue). The primitive guards its state and its lists of
// waiters with one std::mutex; a waiter is linked in one of those lists while
// it blocks.
//
// Who waits decides how it blocks:
// - a task, or the main context of a thread with a loop, parks on its own
//   loop (other tasks of that loop go on running), with a keep-alive so the
//   loop does not end under it. A waker on another thread sends it a
//   cross-thread callback; a waker on the same loop wakes it directly.
// - a thread without a loop blocks its OS thread on a condition variable of
//   its own (so waiters are served strictly in list order).
//
// The hand-off rule that keeps items from being lost or delivered twice:
// a waker picks a waiter, hands it what it waits for (an item, a slot) and
// unlinks it, all under the mutex. A waiter that times out or receives a kill
// or Timeout takes the mutex and, if it is still linked, unlinks itself and
// has taken nothing; if it was already served, the service wins: the call
// completes and the exception stays pending for the task's next suspension
// point. Either way exactly one side decides, under the mutex.
#ifndef EVERGREEN_SYNC_INTERNAL_CROSS_THREAD_WAITER_H_
#define EVERGREEN_SYNC_INTERNAL_CROSS_THREAD_WAITER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/intrusive_list.h"

namespace evergreen::internal {

struct BlockingContext;
class CrossThreadQueue;
class Scheduler;

class CrossThreadWaiter : public IntrusiveListNode<CrossThreadWaiter> {
 public:
  using List = IntrusiveList<CrossThreadWaiter>;
  enum class Outcome { kWaiting, kServed, kClosed };

  CrossThreadWaiter() = default;
  CrossThreadWaiter(const CrossThreadWaiter&) = delete;
  CrossThreadWaiter& operator=(const CrossThreadWaiter&) = delete;

  // CrossThreadWaiter::wait()
  //
  // Links this waiter at the back of `list` and blocks the caller until a
  // waker calls notify() (returns true; outcome() says why), or until
  // `deadline` passes (returns false, unlinked). `lock` holds the primitive's
  // mutex on entry and on every exit. A kill or Timeout delivered to a
  // waiting task unlinks it and is raised, unless it was notified first.
  // `what` names the call for errors ("ThreadSafeQueue::get"). Throws
  // std::runtime_error inside a loop callback, where blocking would stall
  // the loop.
  bool wait(std::unique_lock<std::mutex>& lock, List& list, std::optional<TimePoint> deadline,
            const char* what);

  // CrossThreadWaiter::notify()
  //
  // With the mutex held, by the waker: unlinks the waiter from `list`,
  // records `outcome` and wakes the waiter wherever it blocks.
  void notify(List& list, Outcome outcome);

  Outcome outcome() const { return outcome_; }

  // Primitive-specific payload: where a getter wants its item, the item a
  // putter offers.
  void* data = nullptr;

 private:
  // What a cross-thread wake-up refers to. Only the waiter's loop thread
  // reads or writes it (the waker just copies the pointer), so a wake-up
  // that arrives after the wait ended finds `active` false and does nothing.
  struct WakeTarget {
    BlockingContext* context = nullptr;
    bool active = true;
  };

  bool wait_on_loop(std::unique_lock<std::mutex>& lock, List& list, BlockingContext& self,
                    std::optional<TimePoint> deadline);
  bool wait_on_thread(std::unique_lock<std::mutex>& lock, List& list,
                      std::optional<TimePoint> deadline);

  Outcome outcome_ = Outcome::kWaiting;
  // A waiting task or main context:
  Scheduler* loop_ = nullptr;
  std::shared_ptr<CrossThreadQueue> loop_queue_;
  std::shared_ptr<WakeTarget> target_;
  // A waiting thread without a loop:
  std::condition_variable* thread_wake_ = nullptr;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_SYNC_INTERNAL_CROSS_THREAD_WAITER_H_
