// Per-thread fiber state: the switch state, the thread's main fiber and its
// stack pools.
//
// Created on a thread's first use of fibers (Fiber::current() or a Fiber
// constructor) and destroyed at thread exit, which frees the main fiber and
// unmaps every stack of the thread.
#ifndef EVERGREEN_FIBER_INTERNAL_THREAD_STATE_H_
#define EVERGREEN_FIBER_INTERNAL_THREAD_STATE_H_

#include <memory>

#include "evergreen/fiber/internal/overflow_guard.h"
#include "evergreen/fiber/internal/stack_pool.h"
#include "evergreen/fiber/internal/switch_state.h"

namespace evergreen::fiber_internal {

// Created at a thread's first stack allocation: the thread then also needs an
// alternate signal stack so that an overflow can be reported.
struct StackResources {
  AltSignalStack alt_signal_stack;
  StackPools pools;
};

// Lets only ThreadState construct a thread's main fiber.
class MainFiberKey {
  MainFiberKey() = default;
  friend struct ThreadState;
};

struct ThreadState : SwitchState {
  ThreadState();
  ~ThreadState();
  ThreadState(const ThreadState&) = delete;
  ThreadState& operator=(const ThreadState&) = delete;

  // This thread's state, created on first use.
  static ThreadState& get();
  // The state `this_thread_state` points to (which is always a ThreadState).
  static ThreadState& of(SwitchState& state) { return static_cast<ThreadState&>(state); }

  // The thread's stack pools, created on first use.
  StackPools& pools() {
    if (!stacks) create_stacks();
    return stacks->pools;
  }

  std::unique_ptr<Fiber> main_fiber;
  std::unique_ptr<StackResources> stacks;

 private:
  void create_stacks();
};

// Creates this thread's state and arranges its destruction at thread exit.
ThreadState& create_this_thread_state();

inline ThreadState& ThreadState::get() {
  SwitchState* state = this_thread_state;
  if (state == nullptr) [[unlikely]] {
    return create_this_thread_state();
  }
  return of(*state);
}

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_THREAD_STATE_H_
