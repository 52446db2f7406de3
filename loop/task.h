// evergreen/loop/task.h
//
// Tasks: cooperative threads. A Task runs a function on a fiber of its own,
// scheduled by this thread's EventLoop; it runs until it blocks (sleep, a lock,
// a queue, I/O, join...), and other tasks run meanwhile.
//
// Guarantees:
// - Ready tasks run in FIFO order: spawn order is run order, and a task that
//   yields with sleep(0s) runs again after every task already ready.
// - kill() is asynchronous: the delivery is queued on the loop behind what is
//   already queued, and the exception is raised wherever the task is suspended
//   when the delivery runs. A task killed before its body began never runs it.
// - TaskExit ends a task quietly. Any other exception escaping a task is
//   reported with the task's name (through the report handler,
//   evergreen/loop/report.h; stderr by default) and ends only that task. A
//   task of a TaskGroup hands its exception to TaskGroup::join() instead.
// - A kill is held back while the task is inside a CancellationShield
//   (evergreen/loop/shield.h).
// - Ownership is as with std::thread: destroying a Task that was started and is
//   still alive is a fatal error. A Task owned by a std::shared_ptr (as spawn()
//   returns) is kept alive by the loop until it ends.
#ifndef EVERGREEN_LOOP_TASK_H_
#define EVERGREEN_LOOP_TASK_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "evergreen/fiber/fiber.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/local_storage.h"
#include "evergreen/loop/internal/task_memory.h"
#include "evergreen/loop/internal/wait_queue.h"

namespace evergreen {

// Raised inside a task by kill(). It deliberately does not derive from
// std::exception, so `catch (const std::exception&)` does not swallow a kill.
struct TaskExit {};

class Task;
namespace internal {
// Task::start() for a task that `owner` owns: the loop keeps a copy until the
// task ends (cheaper than recovering one with shared_from_this()).
void start_owned_task(const std::shared_ptr<Task>& owner);
// N for the next task named "task-N" on this thread: it counts the tasks
// named by default on this thread. The name itself is formatted only when read
// (evergreen/fiber/internal/numbered_name.h).
uint64_t next_default_task_number();
// Copies `task`'s name into `out` (at most `capacity` bytes, not
// NUL-terminated) and returns its length. Allocates nothing, even for a
// default name never read before: async-signal-safe, for the stall sampler.
size_t copy_task_name(const Task& task, char* out, size_t capacity) noexcept;
// Selects the constructor spawn() uses.
struct SpawnedTarget {};
}  // namespace internal

class Task : public std::enable_shared_from_this<Task> {
 public:
  // For subclasses that override run().
  Task();
  // A task that runs `target`. An empty name gets "task-N"; a stack_size of 0
  // uses default_stack_size().
  explicit Task(absl::AnyInvocable<void()> target, std::string name = {}, size_t stack_size = 0);
  // For spawn(): the target is built in place, not moved in from another
  // AnyInvocable; the name and stack size are the defaults.
  template <class F>
  Task(internal::SpawnedTarget, F&& target)
      : target_(std::forward<F>(target)),
        stack_size_(0),
        name_number_(internal::next_default_task_number()) {}
  virtual ~Task();
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  // Task::start()
  //
  // Schedules the task on this thread's loop (behind what is already ready).
  // Throws std::runtime_error if called twice.
  void start();

  // Task::join()
  //
  // Blocks the caller until the task ends or `timeout` passes; returns whether
  // it ended. Throws std::runtime_error before start() and when a task joins
  // itself.
  bool join(std::optional<Duration> timeout = std::nullopt);
  // Any std::chrono::duration (see evergreen/loop/duration.h).
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return join(std::optional<Duration>(to_duration(timeout)));
  }

  // Task::kill()
  //
  // Raises TaskExit (or `error`) in the task at its suspension point; see the
  // file comment. Killing an ended task does nothing.
  void kill();
  void kill(std::exception_ptr error);

  // True from start() until the task ends.
  bool is_alive() const { return state_ == State::kStarted || state_ == State::kRunning; }
  const std::string& name() const {
    // A default name ("task-N") is formatted when first read.
    if (name_number_ != 0 && name_.empty()) format_default_name();
    return name_;
  }

  // The task running now, or null outside tasks (main context, loop callbacks).
  static Task* current();

 protected:
  // The task's body; by default runs the target given to the constructor.
  virtual void run();

 private:
  friend class internal::LoopCore;
  friend void internal::start_owned_task(const std::shared_ptr<Task>& owner);
  friend internal::LocalStorage& internal::current_local_storage();
  friend size_t internal::copy_task_name(const Task& task, char* out, size_t capacity) noexcept;
  // prefetch_queued() checks context_'s offset at compile time.
  friend void internal::prefetch_queued(const internal::ReadyNode* node);
  enum class State { kNew, kStarted, kRunning, kEnded };

  void body();
  void format_default_name() const;
  // start() with the task's shared owner (null if none), which the loop keeps
  // until the task ends.
  void start(std::shared_ptr<Task> owner);

  // The lifecycle, as the loop drives it (task.cc). The loop decides when;
  // these say what each step does to the task.
  // Gives the task its fiber (a child of `parent`, the loop fiber) and its
  // context on `loop`; the task is started (not yet running) after it. May
  // throw (a stack size out of range) before anything refers to the task.
  void prepare_start(internal::Scheduler& loop, Fiber* parent, std::shared_ptr<Task> owner);
  bool starting() const { return state_ == State::kStarted; }
  bool running() const { return state_ == State::kRunning; }
  void mark_running() { state_ = State::kRunning; }
  // The task ended (or was killed before it began): wakes its joiners and
  // lets go of its shared owner, which may destroy it.
  void finish();
  // destroy(): raises TaskExit in the task and runs it until it ends or
  // blocks again, then returns to `destroyer`. Returns whether it ended.
  bool unwind_for_destroy(Fiber* destroyer);

  // What the loop touches to wake and resume the task comes first, on as few
  // cache lines as possible: with many sleeping tasks each wake-up starts
  // with this object out of cache.
  State state_ = State::kNew;
  uint32_t live_slot_ = 0;  // in the loop's registry of live tasks
  internal::BlockingContext context_;
  std::optional<Fiber> fiber_;
  internal::WaitQueue joiners_;
  // Keeps a shared-owned task alive until it ends.
  std::shared_ptr<Task> self_;
  absl::AnyInvocable<void()> target_;
  // The name given, or "task-<name_number_>" once first read; empty until
  // then (a default name is formatted only when someone reads it).
  mutable std::string name_;
  size_t stack_size_;
  internal::LocalStorage locals_;
  // Lets a queued kill delivery notice that a stack-owned task is gone.
  std::shared_ptr<Task*> kill_handle_;
  // Not 0 for a task named by default: the N of its "task-N".
  uint64_t name_number_ = 0;
};

// spawn()
//
// Creates a Task running f(args...) (arguments are copied or moved in; move-only
// ones work) with the default stack size, starts it and returns it.
template <class F, class... Args>
std::shared_ptr<Task> spawn(F&& f, Args&&... args) {
  auto task = std::allocate_shared<Task>(
      internal::TaskAllocator<Task>(), internal::SpawnedTarget(),
      [f = std::forward<F>(f), ... args = std::forward<Args>(args)]() mutable {
        std::invoke(std::move(f), std::move(args)...);
      });
  internal::start_owned_task(task);
  return task;
}

// task()
//
// The seed's decorator: returns a callable that spawns f with the arguments it
// is called with and returns the started Task.
template <class F>
auto task(F f) {
  return [f = std::move(f)](auto&&... args) {
    return spawn(f, std::forward<decltype(args)>(args)...);
  };
}

// sleep()
//
// Suspends the caller for at least `duration`; sleep(0s) just yields to the
// loop, letting every ready task run first. Raises a kill or Timeout delivered
// meanwhile. Throws std::runtime_error inside a loop callback.
void sleep(Duration duration);
// Any std::chrono::duration (sleep(0.5s)), rounded up (see
// evergreen/loop/duration.h).
template <class Rep, class Period>
void sleep(std::chrono::duration<Rep, Period> duration) {
  sleep(to_duration(duration));
}

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_TASK_H_
