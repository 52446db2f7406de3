// Turns a fiber stack overflow into a clear fatal error.
//
// An overflow runs into the guard page below the fiber's stack and faults.
// The default action would kill the process with a bare "Segmentation fault",
// and the kernel cannot even deliver the signal on the overflowed stack. So:
//
//  * every thread that allocates fiber stacks gets an alternate signal stack
//    (sigaltstack), unless it already has one (ASan installs its own);
//  * a process-wide SIGSEGV/SIGBUS handler is installed once. When the fault
//    address lies in the guard page of the fiber running on the faulting
//    thread (or that fiber's stack pointer has left its stack), it writes
//    "evergreen: stack overflow in fiber '<name>' (stack size N bytes)" to
//    stderr with write(2) and aborts. Any other fault is passed on to the
//    handler that was installed before ours, or to the default action.
//
// The handler is async-signal-safe: it reads the faulting thread's fiber
// state (never modified concurrently: the fault is synchronous), formats into
// a local buffer and calls only write(2) and abort(3).
#ifndef EVERGREEN_FIBER_INTERNAL_OVERFLOW_GUARD_H_
#define EVERGREEN_FIBER_INTERNAL_OVERFLOW_GUARD_H_

#include <cstddef>

namespace evergreen::fiber_internal {

// The running fiber's stack, as the fault handler needs it.
struct RunningStack {
  const char* guard_low = nullptr;  // guard page(s): [guard_low, stack_low)
  const char* stack_low = nullptr;  // usable stack: [stack_low, stack_high)
  const char* stack_high = nullptr;
  const char* name = nullptr;  // not NUL-terminated; may be empty
  size_t name_length = 0;
  const void* fiber = nullptr;  // names an unnamed fiber by address
};

// Describes the fiber running on this thread if it runs on a pooled stack.
// Async-signal-safe. Defined in fiber.cc, which owns the fiber state.
bool describe_running_fiber_stack(RunningStack& out) noexcept;

// This thread's alternate signal stack, installed on construction unless the
// thread already has one, and removed (if still ours) on destruction.
class AltSignalStack {
 public:
  AltSignalStack();
  ~AltSignalStack();
  AltSignalStack(const AltSignalStack&) = delete;
  AltSignalStack& operator=(const AltSignalStack&) = delete;

 private:
  void* memory_ = nullptr;
  size_t length_ = 0;
};

// Installs the process-wide fault handler; later calls do nothing.
void install_overflow_handler();

// Formats the overflow message into `buffer` (at most `capacity` bytes) and
// returns its length. Async-signal-safe; exposed for tests.
size_t format_overflow_message(const RunningStack& stack, char* buffer, size_t capacity) noexcept;

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_OVERFLOW_GUARD_H_
