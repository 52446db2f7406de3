// Measures how deep a fiber's stack gets: the high-water mark of the code run
// between a StackHighWater's construction and a call to used().
//
//   spawn([] {
//     StackHighWater mark;       // first thing in the task
//     run_the_library_call();
//     size_t bytes = mark.used();
//   });
//
// How: the constructor finds the running fiber's stack through the guard
// registry (fiber/internal/guard_registry.h: the guard just below the stack
// names its bounds) and fills it with a pattern from its lowest address up
// to 4 KiB below its own frame. used() finds the lowest byte no longer
// holding the pattern and returns its distance from the stack's top, so the figure
// includes the frames above the mark (the task's entry, a few hundred bytes,
// and the up to 1 KiB the fiber leaves unused at the top). A frame that
// happens to write the pattern byte itself could hide at most that byte.
//
// Under AddressSanitizer, instrumented frames may live on a fake stack
// elsewhere: the figure then undercounts; measure in the default build.
// Throws std::runtime_error outside a fiber or if the stack is not found.
#ifndef EVERGREEN_TESTS_PATCH_STACK_HIGH_WATER_H_
#define EVERGREEN_TESTS_PATCH_STACK_HIGH_WATER_H_

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "evergreen/fiber/fiber.h"
#include "evergreen/fiber/internal/guard_registry.h"

namespace evergreen::testing {

class StackHighWater {
 public:
  static constexpr unsigned char kPattern = 0xA5;
  // Left unfilled below the constructor's frame: room for the frame of
  // fill() itself.
  static constexpr size_t kUnfilledBelowMark = 4096;

  StackHighWater() {
    char* here = static_cast<char*>(__builtin_frame_address(0));
    find_stack(here);
    filled_end_ = here - kUnfilledBelowMark;
    if (filled_end_ <= low_)
      throw std::runtime_error("StackHighWater: the stack is nearly full already");
    fill(low_, filled_end_);
  }

  // Bytes of stack used at the deepest point since construction, counted
  // from the top of the stack's mapping.
  size_t used() const {
    return static_cast<size_t>(high_ - lowest_touched(low_, filled_end_));
  }

  // The size of the stack measured.
  size_t stack_size() const { return static_cast<size_t>(high_ - low_); }

 private:
  // The guard registry knows each slab's layout: the first page below
  // `address` that lies in a guard is the one under this stack.
  void find_stack(const char* address) {
    constexpr uintptr_t kPage = 4096;
    const size_t stack_size = Fiber::current()->stack_size();
    if (stack_size == 0) throw std::runtime_error("StackHighWater: not on a fiber's stack");
    uintptr_t page = reinterpret_cast<uintptr_t>(address) & ~(kPage - 1);
    for (size_t step = 0; step <= stack_size / kPage + 1; ++step, page -= kPage) {
      fiber_internal::GuardHit hit;
      if (fiber_internal::find_guard(reinterpret_cast<const char*>(page), hit)) {
        low_ = const_cast<char*>(hit.stack_low);
        high_ = const_cast<char*>(hit.stack_high);
        return;
      }
    }
    throw std::runtime_error("StackHighWater: no guard found below the running fiber's stack");
  }

  // Byte by byte through a volatile pointer, uninstrumented: the memory
  // belongs to no live frame, and sanitizers may hold stale poisoning for it.
  __attribute__((noinline, no_sanitize("address", "thread"))) static void fill(char* begin,
                                                                               char* end) {
    for (volatile char* byte = begin; byte < end; ++byte) *byte = static_cast<char>(kPattern);
  }

  __attribute__((noinline, no_sanitize("address", "thread"))) static const char* lowest_touched(
      const char* begin, const char* end) {
    for (const volatile char* byte = begin; byte < end; ++byte) {
      if (static_cast<unsigned char>(*byte) != kPattern) return const_cast<const char*>(byte);
    }
    return end;
  }

  char* low_ = nullptr;
  char* high_ = nullptr;
  char* filled_end_ = nullptr;
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_PATCH_STACK_HIGH_WATER_H_
