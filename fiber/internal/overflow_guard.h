// Turns a fiber stack overflow into a clear fatal error.
//
// An overflow runs into the guard region below a fiber's stack and faults
// (stack_pool.h explains why no frame that fits in the stack can step over
// it). The default action would kill the process with a bare "Segmentation
// fault", and the kernel cannot even deliver the signal on the overflowed
// stack. So:
//
//  * every thread that allocates fiber stacks gets an alternate signal stack
//    (sigaltstack), unless it already has one (ASan installs its own);
//  * a process-wide SIGSEGV/SIGBUS handler is installed once. When the fault
//    address lies in the guard region of any stack of the faulting thread's
//    slabs, it writes
//      "evergreen: stack overflow in fiber '<name>' (stack size N bytes)"
//    to stderr, naming the fiber that owns that stack, and aborts. If the
//    running fiber is another one (a stray write into someone else's guard),
//    the message adds ": its guard region was hit while fiber '<other>' was
//    running". A hit in the guard of a stack no fiber holds says so. A fault
//    outside every guard while the running fiber's stack pointer has left
//    its stack (a frame larger than the guard, in code without stack-clash
//    probing) is reported as that fiber's overflow too. Any other fault is
//    passed on to the handler that was installed before ours, or to the
//    default action.
//
// The handler is async-signal-safe: it reads the faulting thread's fiber
// state and guard registry (only ever changed by that thread, one pointer
// store at a time: the fault is synchronous), formats into a local buffer
// and calls only write(2) and abort(3).
#ifndef EVERGREEN_FIBER_INTERNAL_OVERFLOW_GUARD_H_
#define EVERGREEN_FIBER_INTERNAL_OVERFLOW_GUARD_H_

#include <cstddef>
#include <cstdint>

#include "evergreen/fiber/internal/guard_registry.h"

namespace evergreen::fiber_internal {

// A fiber and its stack, as the fault handler needs them.
struct FiberStack {
  const char* stack_low = nullptr;   // usable stack: [stack_low, stack_high);
  const char* stack_high = nullptr;  // null for a main fiber (the thread's stack)
  const char* name = nullptr;        // not NUL-terminated; may be empty
  size_t name_length = 0;
  // When name is empty and this is not 0, the name is "task-<name_number>",
  // left for the handler to format (fiber/internal/numbered_name.h).
  uint64_t name_number = 0;
  const void* fiber = nullptr;  // names an unnamed fiber by address
};

// Describes the fiber running on this thread (its stack is null for a main
// fiber); false if the thread has no fiber state. Async-signal-safe.
// Defined in fiber.cc, which owns the fiber state.
bool describe_running_fiber(FiberStack& out) noexcept;

// Describes `fiber`, an owner read from the record of the stack that starts
// at `stack_low`; false unless that fiber holds that stack. Async-signal-safe.
// Defined in fiber.cc.
bool describe_fiber_stack(const void* fiber, const char* stack_low, FiberStack& out) noexcept;

// What the handler reports.
struct OverflowReport {
  // Whose guard was hit: `owner` is valid when kOwned.
  StackOwnerState owner_state = StackOwnerState::kOwned;
  FiberStack owner;
  size_t stack_size = 0;  // of the stack whose guard was hit
  // The running fiber, when it is not the owner; else null.
  const FiberStack* running = nullptr;
};

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
size_t format_overflow_message(const OverflowReport& report, char* buffer,
                               size_t capacity) noexcept;

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_OVERFLOW_GUARD_H_
