// Routes process signals to the loops that asked for them.
//
// Signals belong to the process, not to a thread, so this is the one piece of
// process-wide state in the loop: for each signal, the write ends of the pipes
// of the loops that have handlers for it, and the disposition that was there
// before. The installed handler only writes the signal number to each pipe,
// with the raw write system call (async-signal-safe even where //patch
// interposes write()); the loop reads the pipe and runs the handlers on its own
// thread. The synchronous fault signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
// SIGTRAP) are refused: returning from their handler re-runs the fault.
#ifndef EVERGREEN_LOOP_INTERNAL_SIGNAL_ROUTER_H_
#define EVERGREEN_LOOP_INTERNAL_SIGNAL_ROUTER_H_

namespace evergreen::internal {

// Starts routing `signum` to `pipe_write_fd`, installing the process handler if
// this is the first route for the signal. Throws std::invalid_argument for an
// invalid, uncatchable or synchronous fault signal, std::runtime_error if too many loops route it.
void add_signal_route(int signum, int pipe_write_fd);

// Stops routing `signum` to `pipe_write_fd`; the last route restores the
// previous disposition.
void remove_signal_route(int signum, int pipe_write_fd);

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_SIGNAL_ROUTER_H_
