// The stack sample: what a loop thread is doing right now, asked from
// another thread (the stall watchdog, stall_watchdog.h).
//
// sample() reads the system call the thread is blocked in from
// /proc/self/task/<tid>/syscall, then sends the thread stack_sample_signal().
// Its handler, on the loop thread itself, takes a backtrace() and the name of
// what runs (from the loop's running context) into the fixed buffers of the
// thread's LoopWatch: no allocation inside the handler. The caller waits up to
// a second for it and symbolises the frames. A thread that does not answer (it
// blocks the signal) yields a sample without stack.
//
// A system call the kernel never restarts after a signal handler (sleep(),
// nanosleep(), poll()) returns early with EINTR when its thread is sampled.
#ifndef EVERGREEN_LOOP_INTERNAL_STACK_SAMPLE_H_
#define EVERGREEN_LOOP_INTERNAL_STACK_SAMPLE_H_

#include <signal.h>

#include <string>
#include <vector>

#include "evergreen/loop/internal/loop_watch.h"

namespace evergreen::internal {

// The signal that asks a loop thread for its stack. Programs using it for
// something else must not turn the stall detector or the task dump on.
inline int stack_sample_signal() { return SIGRTMAX - 2; }

struct Sample {
  std::string running;             // "task 'x'", "a loop callback", "the main context"
  std::string syscall;             // "" unless blocked in one
  std::vector<std::string> stack;  // innermost first; empty if not taken
};

// Installs the handler of stack_sample_signal(). Once per process, before
// the first sample().
void install_stack_sample_handler();

// What `watch`'s thread is doing now. Not on that thread; one sample of a
// watch at a time (the watchdog holds its mutex).
Sample sample(LoopWatch& watch);

// Loop thread: the watch the handler fills in on this thread (null: none).
void set_sampled_watch(LoopWatch* watch);
LoopWatch* sampled_watch();

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_STACK_SAMPLE_H_
