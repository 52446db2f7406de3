#include "evergreen/loop/internal/loop_core.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "evergreen/fiber/internal/fatal_error.h"
#include "evergreen/loop/internal/backend_selection.h"
#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/report.h"
#include "evergreen/loop/internal/signal_router.h"
#include "evergreen/loop/internal/task_listing.h"
#include "evergreen/loop/task.h"

namespace evergreen::internal {
namespace {

// The loop fiber runs every callback, so it gets a roomier stack than tasks.
constexpr size_t kLoopFiberStackSize = 256 * 1024;
// An iteration runs at least this many ready entries (or all that were ready
// when it began) before polling: entries queued meanwhile run in the same
// iteration, FIFO, so yields and hand-offs need no trip through the loop fiber,
// while I/O and timers still get their turn every few dozen entries.
constexpr size_t kMinimumReadyBudget = 64;
// destroy() delivers TaskExit to every live task this many times, round-robin,
// before it gives up on a task that keeps blocking (a fatal error).
constexpr int kDestroyKillAttempts = 64;

// Thrown into a loop fiber suspended mid-iteration to unwind it in destroy().
struct LoopUnwind {};

}  // namespace

// --- File descriptor callbacks (level-triggered) -----------------------------

struct LoopCore::FdCallbacks final : FdListener {
  FdCallbacks(LoopCore& loop, int fd) : loop(loop), fd(fd) { level_triggered = true; }
  void on_fd_events(uint32_t events) override {
    // Copies keep the callbacks alive if they remove or replace themselves.
    std::shared_ptr<EventLoop::Callback> on_read = reader, on_write = writer;
    if (on_read && (events & (kPollIn | kPollHangUp | kPollError))) {
      report_exceptions("a reader callback", [&] { (*on_read)(); });
    }
    if (on_write && (events & (kPollOut | kPollHangUp | kPollError))) {
      report_exceptions("a writer callback", [&] { (*on_write)(); });
    }
  }
  // The fd was closed through the patched close(): its callbacks go with it
  // (freed after this iteration: they may be running).
  void on_fd_forgotten() override {
    auto found = loop.fd_callbacks_.find(fd);
    if (found == loop.fd_callbacks_.end() || found->second.get() != this) return;
    loop.retired_fd_callbacks_.push_back(std::move(found->second));
    loop.fd_callbacks_.erase(found);
  }
  void update_interest() { interest = (reader ? kPollIn : 0) | (writer ? kPollOut : 0); }

  LoopCore& loop;
  const int fd;
  std::shared_ptr<EventLoop::Callback> reader;
  std::shared_ptr<EventLoop::Callback> writer;
};

// --- Construction --------------------------------------------------------------

LoopCore::LoopCore(EventLoop* owner, LoopOptions options)
    : LoopCore(owner, open_backend(options.backend)) {
  spin_.emplace(options.cross_thread_spin.value_or(Duration::zero()));
  cross_thread_spin_ = options.cross_thread_spin.value_or(Duration::zero());
}

LoopCore::LoopCore(EventLoop* owner, OpenedBackend opened)
    : Scheduler(std::move(opened.poller)),
      owner_(owner),
      backend_(opened.backend),
      backend_fallback_reason_(std::move(opened.fallback_reason)),
      loop_fiber_([this] { loop_body(); }, kLoopFiberStackSize) {
  loop_fiber_.set_name("event loop");
  main_context_.loop = this;
  main_context_.fiber = Fiber::current();
  current_ = &main_context_;
  scheduler_fiber_ = &loop_fiber_;
  thread_queue_token_ = poller_->add(thread_queue_->wake_fd(), kPollIn, thread_queue_.get());
  if (std::optional<Duration> threshold = stall_threshold_from_environment()) {
    set_stall_threshold(threshold);
  }
}

LoopCore::~LoopCore() {
  stop_virtual_clock();
  fds_.clear();  // before the listeners it links (fd_callbacks_) are freed
}

// --- Contexts --------------------------------------------------------------------

// Inlined into hand_off() (its one caller), like hand_off() into park():
// every direct switch between two tasks asks it once.
__attribute__((always_inline)) inline BlockingContext* LoopCore::direct_successor(
    BlockingContext& self) {
  if (ready_budget() == 0 || scheduler_fiber_ != &loop_fiber_ || state_ != State::kRunning) {
    return nullptr;
  }
  ReadyNode* front = ready_.front();
  if (front == nullptr || !front->is_context) return nullptr;
  auto* next = static_cast<BlockingContext*>(front);
  if (next == &self) return next;
  if (next->task == nullptr) return main_waiting_ ? next : nullptr;
  if (next->task->running()) return next;
  if (next->task->starting()) {
    // Killed before it began: the loop fiber ends it without running it.
    return next->pending ? nullptr : next;
  }
  return nullptr;
}

// Inlined into park(): a frame less on every blocked task's stack, which with
// many tasks is one cache line less to miss when each resumes.
__attribute__((always_inline)) inline bool LoopCore::hand_off(BlockingContext& self) {
  BlockingContext* next = direct_successor(self);
  if (next == nullptr) return false;
  ready_.pop();
  spend_ready_budget();
  next->scheduled = false;
  if (next->task == nullptr) {
    next->resumed_by_loop = true;
  } else if (next->task->starting()) {
    next->task->mark_running();
    // Tasks start in bursts (a loop spawning many), each Task written long
    // before it runs: start loading the next one's while this one starts.
    // Tasks that only trade the thread back and forth are left alone, their
    // objects are in cache anyway.
    prefetch_queued(ready_.front());
  }
  if (next == &self) return true;  // it was our own turn already: keep running
  current_ = next;
  next->fiber->switch_to();
  // Resumed: whoever switched back here set current_ to us.
  return true;
}

void LoopCore::park(BlockingContext& self) {
  const bool main_context = self.task == nullptr;
  if (main_context) {
    // The main context runs (or continues) the loop until something wakes it.
    if (state_ == State::kFinished) {
      throw std::runtime_error(
          "evergreen: cannot block: this thread's event loop has already run to completion "
          "(a loop runs once; destroy() it and create a new one)");
    }
    if (state_ == State::kDestroyed) {
      throw std::runtime_error("evergreen: cannot block: the event loop was destroyed");
    }
    main_waiting_ = true;
    self.resumed_by_loop = false;
  }
  // One call site for tasks and the main context: after the switch inside
  // hand_off() the return predictor then sees the same return addresses
  // whichever context resumes.
  if (!hand_off(self)) {
    if (main_context) {
      enter_loop_fiber();
    } else {
      scheduler_fiber_->switch_to();
    }
  }
  if (!main_context) return;
  main_waiting_ = false;
  current_ = &main_context_;
  if (!self.resumed_by_loop) {
    if (stop_requested_) {
      throw std::runtime_error(
          "evergreen: the event loop was stopped while the main context was blocked");
    }
    throw std::runtime_error(
        "evergreen: deadlock: the main context is blocked but the event loop has nothing "
        "left to run (no ready task, timer or I/O watcher could wake it)" +
        describe_blocked_tasks(*this));
  }
}

void LoopCore::finish_if_ended(BlockingContext* context) {
  // A task fiber that ends returns to the loop fiber, its parent, whichever
  // context the loop fiber last switched to.
  if (context != nullptr && context->task != nullptr && !context->fiber->is_alive()) {
    finish_task(*context->task);
  }
}

void LoopCore::enter_loop_fiber() {
  loop_fiber_.set_parent(Fiber::current());
  loop_fiber_.switch_to();
}

void LoopCore::resume(BlockingContext& context) {
  context.scheduled = false;
  if (context.task == nullptr) {
    // The main context blocked earlier; if it has since left (it called
    // run()), there is nothing to resume: a delivery stays pending.
    if (!main_waiting_) return;
    context.resumed_by_loop = true;
    current_ = &context;
    context.fiber->switch_to();
    finish_if_ended(std::exchange(current_, nullptr));
    return;
  }
  Task& task = *context.task;
  if (task.starting()) {
    if (context.pending) {
      // Killed before its body began: it never runs.
      context.pending = nullptr;
      finish_task(task);
      return;
    }
    task.mark_running();
  }
  current_ = &context;
  context.fiber->switch_to();
  // Control may come back from another context than the one switched to:
  // parked contexts hand the thread to each other directly.
  finish_if_ended(std::exchange(current_, nullptr));
}

// --- Tasks -----------------------------------------------------------------------

void LoopCore::start_task(Task& task, std::shared_ptr<Task> owner) {
  if (state_ == State::kDestroyed) {
    throw std::runtime_error("evergreen: cannot start task '" + task.name() +
                             "': its event loop was destroyed");
  }
  task.prepare_start(*this, &loop_fiber_, std::move(owner));
  task.live_slot_ = live_tasks_.add(&task);
  task.context_.scheduled = true;
  start_backlog_.add(&task.context_, ready_);
}

std::vector<const Task*> LoopCore::tasks_in_start_order() const {
  std::vector<const Task*> tasks;
  for (const LiveTasks::Started& entry : live_tasks_.started_since(0)) {
    tasks.push_back(live_tasks_.find(entry));
  }
  return tasks;
}

const BlockingContext& LoopCore::context_of(const Task& task) { return task.context_; }

void LoopCore::finish_task(Task& task) {
  live_tasks_.remove(task.live_slot_);
  task.finish();  // may destroy the task
}

// --- Public operations -------------------------------------------------------------

Handler LoopCore::call_soon(EventLoop::Callback callback) {
  auto record =
      std::make_shared<CallbackRecord>(CallbackRecord::Kind::kSoon, this, std::move(callback));
  record->self = record;
  ready_.push(record.get());
  return Handler(std::move(record));
}

Handler LoopCore::call_at(TimePoint when, EventLoop::Callback callback) {
  auto record =
      std::make_shared<CallbackRecord>(CallbackRecord::Kind::kTimer, this, std::move(callback));
  record->self = record;
  timers_.insert(record.get(), when);
  return Handler(std::move(record));
}

Handler LoopCore::post_from_thread(CrossThreadQueue& queue, EventLoop::Callback callback) {
  // No loop pointer: the record is built off the loop's thread, and a
  // cross-thread callback needs none to be cancelled.
  auto record = std::make_shared<CallbackRecord>(CallbackRecord::Kind::kFromThread, nullptr,
                                                 std::move(callback));
  if (!queue.push(record)) {
    throw std::runtime_error("evergreen: call_from_thread() on a destroyed event loop");
  }
  return Handler(std::move(record));
}

void LoopCore::add_fd_callback(int fd, bool writer, EventLoop::Callback callback) {
  auto found = fd_callbacks_.find(fd);
  if (found == fd_callbacks_.end()) {
    auto created = std::make_unique<FdCallbacks>(*this, fd);
    (writer ? created->writer : created->reader) =
        std::make_shared<EventLoop::Callback>(std::move(callback));
    created->update_interest();
    fds_.add(fd, *created);
    fd_callbacks_.emplace(fd, std::move(created));
    return;
  }
  FdCallbacks& callbacks = *found->second;
  auto& slot = writer ? callbacks.writer : callbacks.reader;
  std::shared_ptr<EventLoop::Callback> previous = std::move(slot);
  slot = std::make_shared<EventLoop::Callback>(std::move(callback));
  callbacks.update_interest();
  try {
    fds_.update(callbacks);
  } catch (...) {
    slot = std::move(previous);
    callbacks.update_interest();
    throw;
  }
}

bool LoopCore::remove_fd_callback(int fd, bool writer) {
  auto found = fd_callbacks_.find(fd);
  if (found == fd_callbacks_.end()) return false;
  FdCallbacks& callbacks = *found->second;
  auto& slot = writer ? callbacks.writer : callbacks.reader;
  if (!slot) return false;
  slot.reset();
  callbacks.update_interest();
  if (callbacks.interest == 0) {
    fds_.remove(callbacks);
    // The callbacks may be running right now: free them after this iteration.
    retired_fd_callbacks_.push_back(std::move(found->second));
    fd_callbacks_.erase(found);
  } else {
    try {
      fds_.update(callbacks);
    } catch (const std::system_error&) {
      // Only narrowing, on an fd the kernel already dropped: nothing to do.
    }
  }
  return true;
}

Handler LoopCore::add_signal_handler(int signum, EventLoop::Callback callback) {
  auto record =
      std::make_shared<CallbackRecord>(CallbackRecord::Kind::kSignal, this, std::move(callback));
  record->signum = signum;
  if (!signals_) signals_ = std::make_unique<SignalPipe>(*poller_);
  signals_->add(signum, record);
  return Handler(std::move(record));
}

bool LoopCore::remove_signal_handler(int signum) {
  return signals_ != nullptr && signals_->remove_all(signum);
}

void LoopCore::remove_signal_record(CallbackRecord* record) {
  if (signals_) signals_->remove(record);
}

void LoopCore::switch_to_loop() {
  BlockingContext& self = current_blocking_context();
  // A delivery left pending (by a wait whose notification won) is raised now:
  // once parked, nothing might ever wake this context to see it.
  raise_pending(self);
  suspend(self);
}

void LoopCore::set_stall_threshold(std::optional<Duration> threshold) {
  internal::set_stall_threshold(watched_.watch(), threshold);
}

void LoopCore::run(bool forever) {
  if (current_ != &main_context_ || Fiber::current() != main_context_.fiber) {
    throw std::runtime_error(
        "evergreen: EventLoop::run() must be called from the thread's main context, not "
        "from a task or a loop callback");
  }
  if (state_ == State::kFinished) {
    throw std::runtime_error(
        "evergreen: EventLoop::run(): this loop already ran (a loop runs once)");
  }
  if (state_ == State::kDestroyed) {
    throw std::runtime_error("evergreen: EventLoop::run(): the loop was destroyed");
  }
  run_forever_ = forever;
  enter_loop_fiber();
  current_ = &main_context_;
}

void LoopCore::stop() {
  if (state_ == State::kIdle) {
    throw std::runtime_error("evergreen: EventLoop::stop(): the loop is not running");
  }
  stop_requested_ = true;
}

// --- The loop itself ------------------------------------------------------------

void LoopCore::loop_body() {
  state_ = State::kRunning;
  current_ = nullptr;
  watched_.watch().set_busy(true);
  try {
    while (!stop_requested_ && (run_forever_ || has_work())) run_once();
  } catch (const LoopUnwind&) {
  }
  state_ = State::kFinished;
  watched_.watch().set_busy(false);
  current_ = &main_context_;
}

bool LoopCore::has_work() const {
  return !ready_.empty() || !start_backlog_.empty() || !timers_.empty() || !fd_callbacks_.empty() ||
         keep_alive_ > 0 || thread_queue_->has_pending();
}

void LoopCore::run_once() {
  turn_started_ = coarse_steady_now();
  watched_.watch().note_turn();
  // Under run_with_virtual_time() only: the one branch virtual time adds to
  // an iteration.
  if (virtual_time_ != nullptr) [[unlikely]] {
    run_once_virtual();
    return;
  }
  release_retired();
  const bool timers_behind = fire_due_timers();
  take_cross_thread_callbacks();
  if (!start_backlog_.empty()) start_backlog_.admit(ready_, timers_behind);

  set_ready_budget(std::max(ready_.size(), kMinimumReadyBudget));
  while (ready_budget() > 0) {
    ReadyNode* node = ready_.pop();
    if (node == nullptr) break;
    spend_ready_budget();
    node->run_ready();
  }
  set_ready_budget(0);

  int timeout_ms = poll_timeout_ms();
  // About to block with work lately coming from other threads: watch for
  // more for a moment first (cross_thread_spin.h). Still poll afterwards,
  // without blocking, so file descriptors are not starved.
  if (timeout_ms != 0 && spin_->spin_for_work(*thread_queue_)) timeout_ms = 0;
  // Nothing but our own wake-up eventfd is registered and work is waiting:
  // cross-thread callbacks are noticed through an atomic flag, so skip the
  // system call.
  if (timeout_ms == 0 && poller_->size() == 1) return;
  bool may_sleep = timeout_ms != 0;
  if (may_sleep && !thread_queue_->begin_sleep()) {
    timeout_ms = 0;
    may_sleep = false;
  }
  // Waiting for I/O is not a stall.
  watched_.watch().set_busy(false);
  poller_->poll(timeout_ms);
  watched_.watch().set_busy(true);
  watched_.watch().note_turn();
  if (may_sleep) thread_queue_->end_sleep();
}

void LoopCore::release_retired() {
  retired_fd_callbacks_.clear();
  fds_.collect_retired();
}

int LoopCore::poll_timeout_ms() const {
  if (!ready_.empty() || !start_backlog_.empty() || stop_requested_ ||
      thread_queue_->has_pending()) {
    return 0;
  }
  if (!timers_.empty()) {
    auto wait = timers_.next_deadline() - ::evergreen::internal::loop_now();
    if (wait <= Duration::zero()) return 0;
    // Round up: waking early would only spin until the deadline.
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    return ms > 1'000'000 ? 1'000'000 : static_cast<int>(ms);
  }
  if (run_forever_ || !fd_callbacks_.empty() || keep_alive_ > 0) return -1;
  return 0;
}

bool LoopCore::fire_due_timers() {
  if (timers_.empty()) return false;
  // At most one batch per iteration: the tasks it wakes run before more
  // timers fire, while their stacks are still in the TLB and cache. Timers
  // added while firing (even already due) wait for the next iteration.
  const TimePoint now = ::evergreen::internal::loop_now();
  timers_.take_due(now, TimerHeap::kMaxBatch);
  while (TimerEntry* entry = timers_.next_to_fire()) {
    if (entry->wakes != nullptr) prefetch_for_resume(*entry->wakes);
    entry->fire();
  }
  return !timers_.empty() && timers_.next_deadline() <= now;
}

void LoopCore::take_cross_thread_callbacks() {
  if (!thread_queue_->has_pending()) return;
  spin_->note_arrival();
  // Woken contexts go straight onto the ready queue (cross_thread_wake.h).
  wake_arrivals(thread_queue_->take_wakes(), nullptr);
  if (!thread_queue_->has_pending_callbacks()) return;
  thread_queue_->drain(incoming_);
  for (auto& record : incoming_) {
    CallbackRecord* raw = record.get();
    raw->self = std::move(record);
    ready_.push(raw);
  }
  incoming_.clear();
}

// --- Teardown -----------------------------------------------------------------------

void LoopCore::drop_ready_queue() {
  while (ReadyNode* node = ready_.pop()) node->drop_unrun();
  start_backlog_.drop_all();
}

void LoopCore::kill_tasks_for_destroy() {
  Fiber* destroyer = Fiber::current();
  scheduler_fiber_ = destroyer;
  // Round-robin: every live task gets a TaskExit per round, so a task that
  // blocks while unwinding (re-acquiring a lock another task holds) gets
  // another chance once the others have unwound.
  for (int round = 0; !live_tasks_.empty(); ++round) {
    if (round == kDestroyKillAttempts) {
      Task* stuck = live_tasks_.find(live_tasks_.started_since(0).front());
      fiber_internal::fatal_error("task '" + stuck->name() +
                                  "' kept blocking while its event loop was destroyed (it caught "
                                  "TaskExit)");
    }
    // Tasks spawned during a round are ended in that round too.
    uint64_t next_sequence = 0;
    for (;;) {
      std::vector<LiveTasks::Started> started = live_tasks_.started_since(next_sequence);
      if (started.empty()) break;
      next_sequence = started.back().sequence + 1;
      for (const LiveTasks::Started& entry : started) {
        // Only the task being resumed runs (hand-offs are off), so tasks end
        // one at a time; `find` skips any that ended anyway.
        Task* task = live_tasks_.find(entry);
        if (task == nullptr) continue;
        drop_ready_queue();
        if (task->starting()) {
          finish_task(*task);  // never began: its body never runs
        } else {
          current_ = &task->context_;
          bool ended = task->unwind_for_destroy(destroyer);
          current_ = &main_context_;
          if (ended) finish_task(*task);
        }
      }
    }
  }
  drop_ready_queue();
}

void LoopCore::destroy() {
  if (current_ != &main_context_ || Fiber::current() != main_context_.fiber) {
    throw std::runtime_error(
        "evergreen: EventLoop::destroy() called while the loop is running (from a task or "
        "a loop callback)");
  }
  thread_queue_->close();
  watched_.watch().set_busy(false);  // unwinding tasks is not a stall
  set_ready_budget(0);  // no hand-offs: destroy() resumes each task itself
  // A loop started implicitly by a blocking main context is suspended inside
  // an iteration: unwind it first.
  if (state_ == State::kRunning) {
    loop_fiber_.set_parent(Fiber::current());
    loop_fiber_.throw_into(std::make_exception_ptr(LoopUnwind{}));
  }
  drop_ready_queue();
  kill_tasks_for_destroy();
  while (DestroyListener* listener = destroy_listeners_.pop_front()) {
    listener->on_loop_destroyed();
  }
  timers_.clear([](TimerEntry* entry) { entry->detach(); });
  fds_.clear();
  fd_callbacks_.clear();
  retired_fd_callbacks_.clear();
  signals_.reset();
  std::vector<std::shared_ptr<CallbackRecord>> late;
  thread_queue_->drain(late);
  for (auto& record : late) record->loop = nullptr;
  poller_->remove(thread_queue_token_, thread_queue_->wake_fd());
  state_ = State::kDestroyed;
  stop_virtual_clock();
  unregister_loop_watch(watched_.watch());
  leave_thread();
}

}  // namespace evergreen::internal
