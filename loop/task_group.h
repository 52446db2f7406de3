// evergreen/loop/task_group.h
//
// TaskGroup: tasks that succeed or fail together (Go's errgroup, Trio's
// nursery).
//
//   TaskGroup group;
//   for (const std::string& url : urls) group.spawn([&, url] { fetch(url); });
//   group.join();   // every fetch ended; rethrows the first failure
//
// Guarantees:
// - When a task of the group ends with an exception other than TaskExit,
//   the first such exception kills every other task of the group at once;
//   join() waits for all of them to unwind and then rethrows it. That
//   exception is not also reported (the report handler, stderr by default):
//   join() hands it over. Later failures (a task failing while being killed)
//   are reported as usual.
// - join() rethrows a failure once; after that the group is empty and
//   usable again. It waits for tasks spawned while it waits too.
// - The destructor kills what still runs and waits for it to unwind (inside
//   a CancellationShield, so a kill or Timeout aimed at the destroying task
//   cannot escape the destructor). A failure nobody joined is reported.
//   Destroyed in a loop callback, where nothing can wait, it kills its tasks
//   and leaves them to unwind on the loop; destroyed by one of its own tasks,
//   it kills that one too (raised at its next suspension point) and waits
//   for the others.
// - Usable from a task or the main context; groups nest (a task of one group
//   may own another: killing the outer task unwinds the inner group).
// - Single-loop object: one thread, like the tasks it spawns.
#ifndef EVERGREEN_LOOP_TASK_GROUP_H_
#define EVERGREEN_LOOP_TASK_GROUP_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

#include "evergreen/loop/task.h"

namespace evergreen {

class TaskGroup {
 public:
  TaskGroup();
  // Kills the tasks still running and waits for them; see the file comment.
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // TaskGroup::spawn()
  //
  // Starts a task running f(args...) (arguments copied or moved in, as with
  // evergreen::spawn) that belongs to the group, and returns it. A task
  // spawned after a failure, before join() rethrew it, is killed at once (it
  // never runs). Like evergreen::spawn, it also works in loop callbacks.
  template <class F, class... Args>
  std::shared_ptr<Task> spawn(F&& f, Args&&... args) {
    std::shared_ptr<Task> task = evergreen::spawn(
        [state = state_, f = std::forward<F>(f), ... args = std::forward<Args>(args)]() mutable {
          try {
            std::invoke(std::move(f), std::move(args)...);
          } catch (const TaskExit&) {
            throw;  // ends the task quietly
          } catch (...) {
            // The first failure goes to join(); a later one is the task's own
            // to report.
            if (!record_failure(*state)) throw;
          }
        });
    adopt(task);
    return task;
  }

  // TaskGroup::join()
  //
  // Blocks until every task of the group has ended. If one ended with an
  // exception other than TaskExit, the others were killed, and once they
  // have unwound the first such exception is rethrown. Raises a kill or
  // Timeout delivered to the caller while it waits (the group's tasks go on).
  // Throws std::logic_error when called from a task of the group (it would
  // wait for itself) and std::runtime_error in a loop callback.
  void join();

  // TaskGroup::kill()
  //
  // Kills every task of the group (TaskExit, asynchronously, as
  // Task::kill()); does not wait. TaskExit is not a failure: join() then
  // returns normally.
  void kill();

  // The tasks of the group that have not ended.
  size_t size() const;

  struct State;

 private:
  // In a task of the group, inside a catch: if the group has no failure yet,
  // records the exception being handled as its failure, kills the group's
  // other tasks and returns true; otherwise returns false.
  static bool record_failure(State& state);
  void adopt(std::shared_ptr<Task> task);

  std::shared_ptr<State> state_;
};

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_TASK_GROUP_H_
