// The implementation behind EventLoop and Task. The other components see only
// its base, Scheduler (scheduler.h), and the free functions of
// blocking_context.h. Everything here runs on the loop's thread.
//
// Execution model: the loop runs in a fiber of its own. Tasks and the thread's
// main context switch to that fiber when they block; the loop switches to a
// context when something wakes it. One iteration fires due timers, takes the
// callbacks other threads sent, runs what was on the ready queue when the
// iteration began (FIFO; during a burst of spawns, new tasks join it a batch
// per iteration: start_backlog.h), then polls file descriptors - without a system call
// when nothing but the loop's own wake-up fd is watched and work is waiting.
#ifndef EVERGREEN_LOOP_INTERNAL_LOOP_CORE_H_
#define EVERGREEN_LOOP_INTERNAL_LOOP_CORE_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "evergreen/fiber/fiber.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/backend_selection.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/callback_record.h"
#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/cross_thread_spin.h"
#include "evergreen/loop/internal/fd_registry.h"
#include "evergreen/loop/internal/intrusive_list.h"
#include "evergreen/loop/internal/live_tasks.h"
#include "evergreen/loop/internal/poller.h"
#include "evergreen/loop/internal/ready_queue.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/signal_pipe.h"
#include "evergreen/loop/internal/stall_watchdog.h"
#include "evergreen/loop/internal/start_backlog.h"
#include "evergreen/loop/internal/timer_heap.h"
#include "evergreen/loop/internal/virtual_time_state.h"

namespace evergreen::internal {

class LoopCore final : public Scheduler {
 public:
  LoopCore(EventLoop* owner, LoopOptions options);
  ~LoopCore();
  LoopCore(const LoopCore&) = delete;
  LoopCore& operator=(const LoopCore&) = delete;

  // This thread's loop core, or null if the thread has no loop.
  static LoopCore* for_this_thread() {
    return static_cast<LoopCore*>(Scheduler::for_this_thread());
  }
  // The loop behind a Scheduler (every Scheduler is a LoopCore).
  static LoopCore& of(Scheduler& scheduler) { return static_cast<LoopCore&>(scheduler); }

  EventLoop& owner() { return *owner_; }
  Backend backend() const { return backend_; }
  std::string_view backend_fallback_reason() const { return backend_fallback_reason_; }

  void schedule(ReadyNode* node) { ready_.push(node); }
  // The running context yields (sleep(0s)): it resumes after every entry
  // ready now and every task spawned before it and still waiting to start
  // (start_backlog.h), so a yield lets a whole burst of spawns run first,
  // as FIFO order promises.
  void schedule_yield(BlockingContext* self) {
    if (start_backlog_.empty()) {
      ready_.push(self);
    } else {
      start_backlog_.append(self);
    }
  }

  // The running context: a task, the main context, or null on the loop fiber.
  BlockingContext* running_context() const { return current_; }
  void park(BlockingContext& self);
  void resume(BlockingContext& context);

  // --- Tasks -----------------------------------------------------------------
  // `owner`: a shared owner of the task (null if it has none), kept until the
  // task ends.
  void start_task(Task& task, std::shared_ptr<Task> owner);
  // Runs on the loop fiber when a task ended (or was killed before it began).
  void finish_task(Task& task);

  // --- Diagnostics (debug.h) -------------------------------------------------
  // The live tasks, in start order.
  std::vector<const Task*> tasks_in_start_order() const;
  static const BlockingContext& context_of(const Task& task);

  // --- EventLoop's public operations -----------------------------------------
  Handler call_soon(EventLoop::Callback callback);
  Handler call_at(TimePoint when, EventLoop::Callback callback);
  static Handler post_from_thread(CrossThreadQueue& queue, EventLoop::Callback callback);
  void add_fd_callback(int fd, bool writer, EventLoop::Callback callback);
  bool remove_fd_callback(int fd, bool writer);
  Handler add_signal_handler(int signum, EventLoop::Callback callback);
  bool remove_signal_handler(int signum);
  void remove_signal_record(CallbackRecord* record);
  void switch_to_loop();
  void set_stall_threshold(std::optional<Duration> threshold);
  void run(bool forever);
  void stop();
  void destroy();

  // --- Virtual time (loop/testing.h; loop_core_virtual.cc) -------------------
  // Makes this loop's clock virtual from now on (this thread's loop_now()
  // follows it until destroy()); with a seed, each turn's ready entries run
  // in an order drawn from it.
  void enable_virtual_time(std::optional<uint64_t> shuffle_seed);
  bool has_virtual_time() const { return virtual_time_ != nullptr; }
  // Suspends `self` until the loop finds every other context blocked: the
  // point where virtual time would otherwise advance.
  void wait_idle(BlockingContext& self);

 private:
  LoopCore(EventLoop* owner, OpenedBackend opened);

  enum class State { kIdle, kRunning, kFinished, kDestroyed };

  struct FdCallbacks;

  void loop_body();
  BlockingContext* direct_successor(BlockingContext& self);
  bool hand_off(BlockingContext& self);
  void finish_if_ended(BlockingContext* context);
  bool has_work() const;
  void run_once();
  void run_once_virtual();
  // Frees the fd listeners retired during the last iteration.
  void release_retired();
  void run_ready_entries(size_t budget);
  bool io_pending() const;
  void stop_virtual_clock();
  // Fires one batch of due timers; returns whether more were already due
  // (the loop is behind on its timers).
  bool fire_due_timers();
  void take_cross_thread_callbacks();
  int poll_timeout_ms() const;
  void drop_ready_queue();
  void kill_tasks_for_destroy();
  void enter_loop_fiber();

  EventLoop* owner_;
  Backend backend_;
  std::string backend_fallback_reason_;
  State state_ = State::kIdle;
  bool stop_requested_ = false;
  bool run_forever_ = false;
  bool main_waiting_ = false;

  BlockingContext main_context_;
  BlockingContext* current_ = nullptr;
  Fiber loop_fiber_;
  // Where a blocking task switches to: the loop fiber, or during destroy()
  // the fiber that is killing the tasks.
  Fiber* scheduler_fiber_ = nullptr;

  // How many more ready entries the current iteration may run before the loop
  // polls again. While it is positive a parking context hands the thread
  // straight to the next ready context: one switch instead of two (via the
  // loop fiber) per hop, with the same FIFO order. Kept in the LoopWatch,
  // where counting it down at every switch is also what shows the stall
  // detector that the loop moves on (loop_watch.h).
  size_t ready_budget() { return watched_.watch().ready_budget.load(std::memory_order_relaxed); }
  void set_ready_budget(size_t budget) {
    watched_.watch().ready_budget.store(budget, std::memory_order_relaxed);
  }
  void spend_ready_budget() { set_ready_budget(ready_budget() - 1); }
  // Tasks started during a burst, waiting to join ready_ (start_backlog.h).
  StartBacklog start_backlog_;
  Poller::Token thread_queue_token_ = 0;
  std::vector<std::shared_ptr<CallbackRecord>> incoming_;
  // Set by the public constructor (the delegated one opens the backend).
  std::optional<CrossThreadSpin> spin_;

  // add_reader()/add_writer() callbacks by fd; they keep run() going.
  std::unordered_map<int, std::unique_ptr<FdCallbacks>> fd_callbacks_;
  std::vector<std::unique_ptr<FdCallbacks>> retired_fd_callbacks_;
  std::unique_ptr<SignalPipe> signals_;

  LiveTasks live_tasks_;

  // Null unless enable_virtual_time() was called (loop_core_virtual.cc).
  std::unique_ptr<VirtualTimeState> virtual_time_;
  // What the stall watchdog and the task dump see of this loop (declared
  // last: registered once everything it points at exists).
  WatchedLoop watched_{&current_, thread_queue_};
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_LOOP_CORE_H_
