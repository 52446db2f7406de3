// What evergreen's own scheduler (//loop) may do to a Fiber beyond its public
// API: hints that save a copy or a cache miss, and that users have no reason
// to call. They live here rather than on Fiber so that the public type
// carries no scheduler hints; Fiber befriends FiberAccess, and each function
// is inline, so a call costs what the member function it replaces cost.
//
// Thread safety: as for Fiber, only on the fiber's own thread.
#ifndef EVERGREEN_FIBER_INTERNAL_FIBER_ACCESS_H_
#define EVERGREEN_FIBER_INTERNAL_FIBER_ACCESS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "evergreen/fiber/fiber.h"
#include "evergreen/fiber/internal/cache_line.h"

namespace evergreen::fiber_internal {

struct FiberAccess {
  // FiberAccess::prefetch_stack()
  //
  // Starts loading the top `bytes` of `fiber`'s stack, from its saved stack
  // pointer up: the frames that switching to it and returning from its
  // blocking call will read. A scheduler that knows it will resume several
  // fibers calls it ahead, so that their cache and TLB misses overlap.
  // Does nothing for a fiber that has never been suspended.
  static void prefetch_stack(const Fiber& fiber, size_t bytes) {
    const char* top = static_cast<const char*>(fiber.context_.sp);
    if (top != nullptr) prefetch_for_read(top, bytes);
  }

  // FiberAccess::use_name()
  //
  // Names `fiber` by a string the caller owns, without copying it: for an
  // owner that keeps the name anyway (the event loop's tasks do), it saves a
  // copy per fiber. `name` must stay valid, and is read as it is then, until
  // the fiber is destroyed or named again (Fiber::set_name() makes it own
  // its name again). While `name` is empty and `number` is not 0, the
  // fiber's name is "task-<number>" (numbered_name.h), formatted only when
  // read: the owner fills `name` lazily with the same text.
  static void use_name(Fiber& fiber, const std::string& name, uint64_t number = 0) {
    fiber.name_ = &name;
    fiber.name_number_ = number;
  }

  // FiberAccess::suspended_frame()
  //
  // Where a suspended fiber's stack can be walked from: the address it will
  // resume at, its saved frame pointer, and the bounds of its stack. All null
  // for a fiber that holds no stack or is not suspended in a switch (never
  // run, running, or ended). Reading them costs nothing while nobody asks;
  // the walk itself (stack_trace.h) checks every frame against the bounds.
  struct SuspendedFrame {
    const void* pc = nullptr;
    const void* fp = nullptr;
    const char* stack_low = nullptr;
    const char* stack_high = nullptr;
  };
  static SuspendedFrame suspended_frame(const Fiber& fiber) {
    const bool suspended = fiber.state_ == Fiber::State::kStarted &&
                           fiber.thread_->current != &fiber;
    if (!suspended || fiber.stack_ == nullptr) return {};
    return SuspendedFrame{fiber.context_.pc, fiber.context_.fp, fiber.stack_,
                          fiber.stack_ + fiber.stack_size_};
  }
};

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_FIBER_ACCESS_H_
