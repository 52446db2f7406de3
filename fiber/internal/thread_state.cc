#include "evergreen/fiber/internal/thread_state.h"

#include "evergreen/fiber/fiber.h"

namespace evergreen::fiber_internal {

constinit thread_local SwitchState* this_thread_state __attribute__((tls_model("initial-exec"))) =
    nullptr;

ThreadState::ThreadState() {
  runtime_slots = RuntimeSlots::for_this_thread();
  main_fiber = std::make_unique<Fiber>(MainFiberKey{}, *this);
  current = main_fiber.get();
}

// Unmaps the stacks, then frees the main fiber.
ThreadState::~ThreadState() = default;

void ThreadState::create_stacks() {
  install_overflow_handler();
  stacks = std::make_unique<StackResources>();
}

ThreadState& create_this_thread_state() {
  // Owns the state; destroyed at thread exit, after every thread_local that
  // was constructed later (such as an event loop, which uses fibers).
  struct Owner {
    std::unique_ptr<ThreadState> state;
    ~Owner() {
      this_thread_state = nullptr;
      state.reset();
    }
  };
  static thread_local Owner owner;
  owner.state = std::make_unique<ThreadState>();
  this_thread_state = owner.state.get();
  return *owner.state;
}

}  // namespace evergreen::fiber_internal
