#include "evergreen/loop/task_group.h"

#include <algorithm>
#include <deque>
#include <exception>
#include <stdexcept>
#include <string>

#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/report.h"
#include "evergreen/loop/shield.h"

namespace evergreen {

// Shared with the group's tasks (each holds it), so a group destroyed where
// it cannot wait (a loop callback) leaves nothing dangling behind.
struct TaskGroup::State {
  // The group's tasks in spawn order; ended ones are dropped lazily (from
  // the front by join(), all of them when spawn() finds the deque twice as
  // long as at the last sweep), so no task needs to tell the group it ended.
  std::deque<std::shared_ptr<Task>> tasks;
  size_t size_after_sweep = 0;
  // The first failure not yet rethrown by join(), and its task's name.
  std::exception_ptr failure;
  std::string failed_task;
  // The group was destroyed while some of its tasks still ran (killed but
  // not waited for): a failure of theirs is reported by the task itself.
  bool orphaned = false;

  void drop_ended_at_front() {
    while (!tasks.empty() && !tasks.front()->is_alive()) tasks.pop_front();
  }
  void kill_all() {
    for (const std::shared_ptr<Task>& task : tasks) task->kill();
  }
  // Waits for every task, including those spawned meanwhile, except the
  // calling one (a group destroyed by one of its own tasks cannot wait for
  // that task; it was killed with the rest).
  void wait_all() {
    const Task* self = Task::current();
    for (;;) {
      drop_ended_at_front();
      std::shared_ptr<Task> next;  // a copy: the deque may change meanwhile
      for (const std::shared_ptr<Task>& task : tasks) {
        if (task->is_alive() && task.get() != self) {
          next = task;
          break;
        }
      }
      if (next == nullptr) return;
      next->join();
    }
  }
};

TaskGroup::TaskGroup() : state_(std::make_shared<State>()) {}

TaskGroup::~TaskGroup() {
  state_->kill_all();
  if (internal::current_context_or_null() != nullptr) {
    // A kill or Timeout aimed at this context must not escape a destructor:
    // held back, it is raised at the first suspension point after.
    CancellationShield shield;
    state_->wait_all();
  }
  // The tasks hold the state (their bodies record failures in it): holding
  // them back would be a reference cycle, leaking whatever still runs.
  state_->orphaned = true;
  state_->tasks.clear();
  if (state_->failure) {
    std::exception_ptr failure = std::move(state_->failure);
    try {
      std::rethrow_exception(failure);
    } catch (...) {
      internal::report_current_exception(
          "task '" + state_->failed_task + "' of a TaskGroup nobody joined ended with an exception",
          state_->failed_task);
    }
  }
}

bool TaskGroup::record_failure(State& state) {
  if (state.failure || state.orphaned) return false;
  Task* self = Task::current();
  state.failure = std::current_exception();
  state.failed_task = self->name();
  for (const std::shared_ptr<Task>& task : state.tasks) {
    if (task.get() != self) task->kill();
  }
  return true;
}

void TaskGroup::adopt(std::shared_ptr<Task> task) {
  State& state = *state_;
  if (state.tasks.size() >= 2 * state.size_after_sweep + 16) {
    std::erase_if(state.tasks, [](const std::shared_ptr<Task>& t) { return !t->is_alive(); });
    state.size_after_sweep = state.tasks.size();
  }
  if (state.failure) task->kill();  // before its body began: it never runs
  state.tasks.push_back(std::move(task));
}

void TaskGroup::join() {
  State& state = *state_;
  if (Task* self = Task::current()) {
    for (const std::shared_ptr<Task>& task : state.tasks) {
      if (task.get() == self) {
        throw std::logic_error("evergreen: TaskGroup::join() called from task '" + self->name() +
                               "', which belongs to the group: it would wait for itself");
      }
    }
  }
  internal::current_blocking_context();  // std::runtime_error in a loop callback
  state.wait_all();
  if (state.failure) {
    std::exception_ptr failure = std::move(state.failure);
    state.failure = nullptr;
    state.failed_task.clear();
    std::rethrow_exception(failure);
  }
}

void TaskGroup::kill() { state_->kill_all(); }

size_t TaskGroup::size() const {
  return std::count_if(state_->tasks.begin(), state_->tasks.end(),
                       [](const std::shared_ptr<Task>& task) { return task->is_alive(); });
}

}  // namespace evergreen
