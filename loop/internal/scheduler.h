// Scheduler: what evergreen's own components (sync, futures, io, patch) may
// use of a loop. It is the base of the loop's implementation (LoopCore), so
// each call is a plain inline member, but it shows only this narrow surface:
//   - timers (TimerHeap entries armed for a deadline),
//   - the loop's one fd registry (FdRegistry: every fd the loop watches),
//   - keep-alive (work that keeps run() going although no watcher shows it),
//   - a destroy hook (let go of loop resources before the loop is freed),
//   - the cross-thread queue (results handed back from other threads),
//   - file operations the backend performs itself (io_uring; see
//     kernel_operation.h),
//   - whether a context about to park may spin instead (cross-thread
//     waiters: sync/internal/cross_thread_waiter.h).
// Suspending and waking a context (park, wake, deliver) are the free
// functions of blocking_context.h; waiting in FIFO order is WaitQueue.
//
// Single-threaded: everything runs on the loop's thread, except
// call_from_thread(), which any thread may call.
#ifndef EVERGREEN_LOOP_INTERNAL_SCHEDULER_H_
#define EVERGREEN_LOOP_INTERNAL_SCHEDULER_H_

#include <chrono>
#include <memory>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "evergreen/loop/duration.h"
#include "evergreen/loop/internal/coarse_clock.h"
#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/fd_registry.h"
#include "evergreen/loop/internal/intrusive_list.h"
#include "evergreen/loop/internal/kernel_operation.h"
#include "evergreen/loop/internal/poller.h"
#include "evergreen/loop/internal/ready_queue.h"
#include "evergreen/loop/internal/timer_heap.h"

namespace evergreen::internal {

class Scheduler;

// This thread's loop (set by the Scheduler constructor, cleared by
// leave_thread()). Inline, so that finding the calling context on every
// blocking call is one thread-local load rather than two calls into other
// files.
inline constinit thread_local Scheduler* this_thread_scheduler = nullptr;

class Scheduler {
 public:
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Scheduler::for_this_thread()
  //
  // This thread's loop, or null if the thread has none (on the main thread:
  // none was created on demand yet).
  static Scheduler* for_this_thread();  // inline below

  // Scheduler::current()
  //
  // This thread's loop; the main thread's is created on demand. Throws
  // std::runtime_error on another thread that has none.
  static Scheduler& current();

  bool on_loop_thread() const { return std::this_thread::get_id() == thread_; }

  // Scheduler::turn_started()
  //
  // When the loop's current turn began, on the coarse clock (coarse_clock.h):
  // the time a task that blocks now is said to have started waiting. One
  // clock read per turn rather than one per blocking call, which cost a
  // channel round trip an eighth of its time. The figure is late by the run
  // time of the contexts that ran earlier in the turn.
  std::chrono::steady_clock::time_point turn_started() const { return turn_started_; }

  // Scheduler::add_timer() / remove_timer()
  //
  // Arms `entry` to fire() on the loop fiber at `deadline` (timers fire in
  // deadline order, FIFO among equal deadlines) / disarms it. An armed entry
  // keeps run() going.
  void add_timer(TimerEntry* entry, TimePoint deadline) { timers_.insert(entry, deadline); }
  void remove_timer(TimerEntry* entry) { timers_.remove(entry); }

  // Scheduler::fds()
  //
  // Every fd this loop watches, whoever watches it: streams, the resolver,
  // patched calls and add_reader()/add_writer() all register here.
  FdRegistry& fds() { return fds_; }

  // Scheduler::retain() / release(), Scheduler::KeepAlive
  //
  // Work that keeps run() going although no watcher or timer shows it (a
  // task waiting for an fd, a thread-pool job whose result will come back).
  // KeepAlive holds one for its lifetime.
  void retain() { ++keep_alive_; }
  void release() { --keep_alive_; }
  class KeepAlive {
   public:
    explicit KeepAlive(Scheduler& loop) : loop_(loop) { loop_.retain(); }
    ~KeepAlive() { loop_.release(); }
    KeepAlive(const KeepAlive&) = delete;
    KeepAlive& operator=(const KeepAlive&) = delete;

   private:
    Scheduler& loop_;
  };

  // Scheduler::DestroyListener
  //
  // Something outside the loop that holds loop resources (an fd listener, a
  // resolver's timer) and must let go of them before the loop is freed:
  // destroy() calls on_loop_destroyed() once on each listener still added,
  // after every task has been killed. An I/O object may outlive its loop (a
  // stream owned by a test fixture), so it cannot just remove itself in its
  // destructor. Removing a listener that is not added does nothing.
  struct DestroyListener : IntrusiveListNode<DestroyListener> {
    virtual ~DestroyListener() = default;
    virtual void on_loop_destroyed() = 0;
  };
  void add_destroy_listener(DestroyListener* listener) { destroy_listeners_.push_back(listener); }
  void remove_destroy_listener(DestroyListener* listener) {
    if (listener->is_linked()) destroy_listeners_.remove(listener);
  }

  // Scheduler::performs_operations() / submit_operation() /
  // finish_operations()
  //
  // Whether this loop's backend performs file operations itself (io_uring),
  // and the Poller calls of the same names (poller.h): queue one for the
  // iteration's submission; block the thread until every one in flight has
  // completed.
  bool performs_operations() const { return poller_->performs_operations(); }
  void submit_operation(KernelOperation& operation) { poller_->submit_operation(operation); }
  void finish_operations() { poller_->finish_operations(); }
  // Cancel one operation in flight / block until it has completed / count
  // the operations of a kind submitted (see poller.h).
  void cancel_operation(KernelOperation& operation) { poller_->cancel_operation(operation); }
  void finish_operation(KernelOperation& operation) { poller_->finish_operation(operation); }
  uint64_t operations_submitted(KernelOperation::Kind kind) const {
    return poller_->operations_submitted(kind);
  }

  // Scheduler::cross_thread_queue() / call_from_thread()
  //
  // The queue other threads hand callbacks to. It outlives the loop (closed
  // by destroy()), so a thread holding it never touches a freed loop.
  // call_from_thread() is thread-safe: it runs `callback` on the queue's loop
  // thread and throws std::runtime_error once that loop was destroyed.
  const std::shared_ptr<CrossThreadQueue>& cross_thread_queue() const { return thread_queue_; }
  static void call_from_thread(CrossThreadQueue& queue, absl::AnyInvocable<void()> callback);

  // Scheduler::cross_thread_spin() / has_ready()
  //
  // How long this loop watches for work from other threads before it sleeps
  // (LoopOptions::cross_thread_spin; zero: never), and whether anything is
  // waiting to run on it now. A context about to park for something another
  // thread will hand it may spin for that long instead when nothing else is
  // ready: the loop would only spin itself (cross_thread_spin.h).
  Duration cross_thread_spin() const { return cross_thread_spin_; }
  bool has_ready() const { return !ready_.empty(); }

 protected:
  // Becomes this thread's loop, waiting for I/O with `poller`; throws
  // std::runtime_error if the thread has a loop.
  explicit Scheduler(std::unique_ptr<Poller> poller);
  ~Scheduler();
  // Stops being this thread's loop (destroy()): a new one may be made.
  void leave_thread();

  std::thread::id thread_;
  ReadyQueue ready_;
  TimerHeap timers_;
  std::unique_ptr<Poller> poller_;
  FdRegistry fds_{*poller_};
  std::shared_ptr<CrossThreadQueue> thread_queue_;
  int keep_alive_ = 0;
  Duration cross_thread_spin_ = Duration::zero();
  std::chrono::steady_clock::time_point turn_started_ = coarse_steady_now();
  IntrusiveList<DestroyListener> destroy_listeners_;
};

inline Scheduler* Scheduler::for_this_thread() { return this_thread_scheduler; }

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_SCHEDULER_H_
