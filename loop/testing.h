// evergreen/loop/testing.h
//
// Deterministic tests for code built on evergreen: a loop whose clock is
// virtual, a way to wait until every task is blocked, and seeded ready
// orders. The counterpart of Go's testing/synctest, but every evergreen
// primitive (locks, queues, events, futures, joins) counts as "blocked", and
// real I/O counts as pending so that time never jumps past a reply on its way.
//
//   evergreen::testing::run_with_virtual_time([] {
//     auto start = evergreen::EventLoop::current().time();
//     evergreen::sleep(1h);                       // returns at once
//     assert(evergreen::EventLoop::current().time() - start == 1h);
//   });
//
// Under run_with_virtual_time(), these follow the virtual clock on the calling
// thread: EventLoop::time(), sleep(), Timeout, the timed waits of every
// primitive (try_lock_for, get_for, wait(timeout), Future::result(timeout)...),
// call_later()/call_at(), and with //patch and patch() the patched sleep(),
// usleep(), nanosleep(), clock_gettime(CLOCK_MONOTONIC) (hence
// std::chrono::steady_clock::now() in code that goes through libc's
// clock_gettime) and time() (the real wall-clock time at the start plus the
// virtual time elapsed). Other threads keep the real clock: a
// ThreadPoolExecutor's workers and io's file pool run real system calls in
// real time, which the virtual clock does not wait for beyond the I/O grace
// below.
//
// When the clock moves: only when nothing is ready to run and no I/O is
// pending; it then jumps straight to the earliest timer, and timers fire in
// exact deadline order (FIFO among equal deadlines). "I/O pending": the loop
// first polls without waiting (loopback data written by a task of this loop
// is already in the kernel, so its reader wakes and time stays); then, if any
// fd is watched or a thread-pool job or file operation is out, it waits up to
// 20 ms of real time for I/O before it moves the clock, so that a reply from
// another thread or process that is on its way arrives first. A peer slower
// than that is overtaken by virtual time.
#ifndef EVERGREEN_LOOP_TESTING_H_
#define EVERGREEN_LOOP_TESTING_H_

#include <cstdint>
#include <optional>

#include "absl/functional/any_invocable.h"

namespace evergreen::testing {

// TestOptions
//
// shuffle_seed: with a seed, the tasks and callbacks that became ready in the
// same loop turn (spawned, woken, whose timers fired) run in a pseudo-random
// order drawn from the seed instead of FIFO; the same seed always gives the
// same order, so a failing seed replays the failure exactly. Without one, the
// usual FIFO order.
struct TestOptions {
  std::optional<uint64_t> shuffle_seed;
};

// run_with_virtual_time()
//
// Creates a fresh loop on this thread whose clock is virtual (it starts at a
// fixed point, steady_clock's epoch plus 24 hours), runs `body` in the
// thread's main context, and destroys the loop when `body` returns: tasks
// still running are killed (TaskExit) then. An exception escaping `body` is
// rethrown after the loop is destroyed; when a shuffle seed was given, the
// seed is first printed to stderr so the run can be replayed. A deadlock
// inside (the body blocked with nothing left that could wake it) throws the
// deadlock error, as on a real loop.
//
// Throws std::logic_error if this thread already has an event loop (including
// the main thread's on-demand loop once something used it).
void run_with_virtual_time(absl::AnyInvocable<void()> body, TestOptions options = {});

// wait_idle()
//
// Inside run_with_virtual_time() (in the body or in a task): blocks until
// every other task is blocked - nothing is ready to run and no I/O is pending
// by the rule above - which is the point where the clock would otherwise
// move; the clock does not move for it. Go's synctest.Wait. Throws
// std::logic_error outside run_with_virtual_time(), and if another task is
// already inside wait_idle().
void wait_idle();

}  // namespace evergreen::testing

#endif  // EVERGREEN_LOOP_TESTING_H_
