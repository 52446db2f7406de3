#include "evergreen/loop/task.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "absl/cleanup/cleanup.h"
#include "evergreen/fiber/internal/fatal_error.h"
#include "evergreen/fiber/internal/fiber_access.h"
#include "evergreen/fiber/internal/numbered_name.h"
#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/loop_core.h"
#include "evergreen/loop/internal/report.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen {

uint64_t internal::next_default_task_number() {
  thread_local uint64_t next_number = 1;
  return next_number++;
}

size_t internal::copy_task_name(const Task& task, char* out, size_t capacity) noexcept {
  std::string_view name = task.name_;
  char numbered[fiber_internal::kNumberedNameCapacity];
  if (name.empty() && task.name_number_ != 0) {
    name = std::string_view(numbered,
                            fiber_internal::format_numbered_name(task.name_number_, numbered));
  }
  const size_t length = std::min(name.size(), capacity);
  std::memcpy(out, name.data(), length);
  return length;
}

Task::Task() : Task(nullptr) {}

Task::Task(absl::AnyInvocable<void()> target, std::string name, size_t stack_size)
    : target_(std::move(target)),
      name_(std::move(name)),
      stack_size_(stack_size),
      name_number_(name_.empty() ? internal::next_default_task_number() : 0) {}

void Task::format_default_name() const {
  char buffer[fiber_internal::kNumberedNameCapacity];
  name_.assign(buffer, fiber_internal::format_numbered_name(name_number_, buffer));
}

Task::~Task() {
  if (kill_handle_) *kill_handle_ = nullptr;
  if (is_alive()) {
    fiber_internal::fatal_error("task '" + name() +
                                "' was destroyed while still alive (join() it first, or own it "
                                "with a std::shared_ptr as spawn() does)");
  }
}

void Task::start() { start(weak_from_this().lock()); }

void Task::start(std::shared_ptr<Task> owner) {
  if (state_ != State::kNew) {
    throw std::runtime_error("evergreen: Task::start() called twice on task '" + name() + "'");
  }
  internal::LoopCore::of(internal::Scheduler::current()).start_task(*this, std::move(owner));
}

void Task::prepare_start(internal::Scheduler& loop, Fiber* parent, std::shared_ptr<Task> owner) {
  fiber_.emplace([this] { body(); }, stack_size_, parent);
  // A Task's name never changes; a default one is formatted when first read,
  // by whichever of the two reads it.
  fiber_internal::FiberAccess::use_name(*fiber_, name_, name_number_);
  self_ = std::move(owner);
  context_.loop = &loop;
  context_.fiber = &*fiber_;
  context_.task = this;
  state_ = State::kStarted;
}

void Task::finish() {
  state_ = State::kEnded;
  context_.pending = nullptr;
  context_.pending_source = nullptr;
  context_.held = nullptr;
  context_.held_source = nullptr;
  joiners_.notify_all();
  // May destroy the task: nothing may touch it after this.
  std::shared_ptr<Task> self = std::move(self_);
}

bool Task::unwind_for_destroy(Fiber* destroyer) {
  context_.pending = std::make_exception_ptr(TaskExit{});
  context_.pending_source = nullptr;
  fiber_->set_parent(destroyer);
  fiber_->switch_to();
  return !fiber_->is_alive();
}

void internal::start_owned_task(const std::shared_ptr<Task>& owner) { owner->start(owner); }

bool Task::join(std::optional<Duration> timeout) {
  if (state_ == State::kNew) {
    throw std::runtime_error("evergreen: cannot join task '" + name() + "': it was never started");
  }
  if (state_ == State::kEnded) return true;
  if (current() == this) {
    throw std::runtime_error("evergreen: task '" + name() + "' cannot join itself");
  }
  // The joiner may hold no reference of its own (a raw pointer, or an owner
  // that lets go while it waits): keep the task alive until we have read
  // how the wait ended. Null for a task that is not owned by a shared_ptr.
  std::shared_ptr<Task> keep_alive = weak_from_this().lock();
  internal::WaitLabel label("join", &context_);
  joiners_.wait(nullptr, timeout);
  return state_ == State::kEnded;
}

void Task::kill() { kill(std::make_exception_ptr(TaskExit{})); }

void Task::kill(std::exception_ptr error) {
  if (!error) error = std::make_exception_ptr(TaskExit{});
  if (state_ == State::kEnded) return;
  if (state_ == State::kNew || state_ == State::kStarted) {
    // Its body has not begun, so it never will: the start entry already on the
    // ready queue sees the exception and ends the task instead of running it.
    if (!context_.pending) context_.pending = std::move(error);
    return;
  }
  if (!kill_handle_) kill_handle_ = std::make_shared<Task*>(this);
  internal::LoopCore::of(*context_.loop)
      .call_soon([handle = kill_handle_, error = std::move(error)]() mutable {
        Task* task = *handle;
        if (task == nullptr || task->state_ == State::kEnded) return;
        internal::deliver(task->context_, std::move(error));
      });
}

Task* Task::current() {
  internal::BlockingContext* context = internal::current_context_or_null();
  return context == nullptr ? nullptr : context->task;
}

void Task::run() {
  if (target_) target_();
}

void Task::body() {
  try {
    run();
  } catch (const TaskExit&) {
    // A kill ends the task quietly.
  } catch (...) {
    internal::report_current_exception("task '" + name() + "' ended with an exception", name());
  }
  locals_.clear();
}

void sleep(Duration duration) {
  internal::BlockingContext& self = internal::current_blocking_context();
  // A delivery left pending (by an interrupted //patch call, or by a wait
  // whose notification won) is raised here, not after the sleep.
  internal::raise_pending(self);
  if (duration <= Duration::zero()) {
    internal::yield_to_loop(self);
    return;
  }
  struct SleepTimer final : internal::TimerEntry {
    void fire() override {
      fired = true;
      internal::wake(*wakes);
    }
    bool fired = false;
  } timer;
  timer.wakes = &self;
  internal::WaitLabel label(self, "sleep");
  internal::Scheduler& loop = *self.loop;
  loop.add_timer(&timer, ::evergreen::internal::loop_now() + duration);
  absl::Cleanup disarm = [&] {
    if (timer.armed()) loop.remove_timer(&timer);
  };
  while (!timer.fired) internal::suspend(self);
}

}  // namespace evergreen
