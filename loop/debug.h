// evergreen/loop/debug.h
//
// Diagnostics: what every task of this thread's loop is doing.
//
//   for (const TaskInfo& task : list_tasks()) ...   // structured
//   dump_tasks(std::cerr);                           // human-readable
//
// list_tasks() returns the live tasks (started, not yet ended) of the calling
// thread's loop in start order, each with its state; for a blocked task, the
// blocking call it is in, in the API's own words ("sleep", "Lock::acquire",
// "Queue::get", "Channel::receive", "Event::wait", "Future::get", "join",
// "read_until", ...) and how long it has been in it; and its call stack,
// innermost frame first, as function names where the dynamic linker can see
// them (link with -rdynamic for the executable's own functions). A task that
// has not run yet has no stack. Walking the stacks is safe (every frame is
// checked against the task's own stack) and nothing is recorded ahead of
// time: a program that never asks pays for one store and a clock read per
// blocking call, nothing per switch.
//
// On a thread without a loop both see no tasks. Must be called on the loop's
// thread, from a task, the main context or a loop callback.
#ifndef EVERGREEN_LOOP_DEBUG_H_
#define EVERGREEN_LOOP_DEBUG_H_

#include <signal.h>

#include <iosfwd>
#include <string>
#include <vector>

#include "evergreen/loop/event_loop.h"

namespace evergreen {

enum class TaskState {
  kReady,    // started or woken, waiting for its turn
  kRunning,  // the task calling list_tasks()
  kBlocked,  // parked in a blocking call
};

struct TaskInfo {
  std::string name;
  TaskState state;
  // The blocking call, in the API's own words; "" unless blocked. A task
  // parked by a call that does not name itself reads "unknown".
  std::string waiting_on;
  // How long it has been blocked (zero unless blocked in a named call).
  Duration waiting_for{0};
  // Symbolised frames, innermost first.
  std::vector<std::string> stack;
};

// The live tasks of this thread's loop, in start order.
std::vector<TaskInfo> list_tasks();

// The same, one block per task with its stack:
//   evergreen: 2 tasks on this thread's loop
//   task 'reader' blocked on Queue::get for 1.204s
//       #0 evergreen::internal::WaitQueue::wait(...)+0x8c
//       ...
void dump_tasks(std::ostream& out);

// Makes `signum` ask every loop of the process for its dump on stderr, as Go
// does with SIGQUIT; the program goes on. The handler only records the
// request (async-signal-safe); a watchdog thread then has each loop write
// dump_tasks() on its own thread at its next turn, headed "evergreen: task
// dump of the loop on thread <tid>". A loop that has not answered within a
// second (stuck in a callback or a task that does not yield, or not running)
// is reported from the watchdog thread with what can be read safely: what it
// runs, the system call it is blocked in, and its stack. Replaces any handler
// the program had for `signum`. Throws std::invalid_argument for a signal
// that cannot serve (invalid, SIGKILL/SIGSTOP, a synchronous fault signal,
// or SIGRTMAX-2, which the stack sample uses).
void install_task_dump_handler(int signum = SIGQUIT);

// The word dump_tasks() uses for `state`: "ready", "running" or "blocked".
const char* to_string(TaskState state);

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_DEBUG_H_
