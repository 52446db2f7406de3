// The per-thread fields every fiber switch reads and writes.
//
// Fiber::switch_to() is inline (see fiber.h), so these live in a header of
// their own; the rest of the thread's state (main fiber, stack pools) is in
// thread_state.h. They are reached through one initial-exec thread-local
// pointer: a single %fs-relative load, no TLS helper call.
#ifndef EVERGREEN_FIBER_INTERNAL_SWITCH_STATE_H_
#define EVERGREEN_FIBER_INTERNAL_SWITCH_STATE_H_

#include "evergreen/fiber/internal/runtime_state.h"

namespace evergreen {
class Fiber;
}

namespace evergreen::fiber_internal {

struct SwitchState {
  // The fiber running on this thread.
  Fiber* current = nullptr;
  // A fiber that has just ended. It cannot release its own stack while it
  // runs on it, so the fiber that runs next does (Fiber::switch_in_slow()).
  Fiber* ended = nullptr;
  // Where this thread keeps errno and the C++ exception globals.
  RuntimeSlots runtime_slots;
};

// Null until the thread first uses fibers, and again once its state has been
// destroyed at thread exit. Points to the thread's ThreadState.
extern constinit thread_local SwitchState* this_thread_state
    __attribute__((tls_model("initial-exec")));

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_SWITCH_STATE_H_
