// Tells AddressSanitizer and ThreadSanitizer about fiber switches.
//
// Both sanitizers keep per-stack bookkeeping (ASan: the bounds of the running
// stack and its fake stack; TSan: a shadow call stack and vector clocks per
// thread of execution). Without these calls they would report false errors, or
// crash, when the stack pointer jumps to another fiber. In builds without a
// sanitizer every function here is an empty inline and SanitizerFiberState is
// empty, so nothing reaches the normal build.
//
// Protocol, per switch from fiber A to fiber B:
//   A: before_switch(A.state, B.state)        (or before_final_switch when A ends)
//      ... machine switch ...
//   B: after_switch(B.state)
// Nothing may run between before_switch and the machine switch, or between
// the machine switch and after_switch: TSan would attribute the function
// exits to the wrong fiber's shadow call stack. So the hooks are forced
// inline and called right next to the switch.
//
// SanitizerFiberState is part of Fiber's layout, so the library and the code
// using it must be built with the same sanitizer flags (as Bazel does).
#ifndef EVERGREEN_FIBER_INTERNAL_SANITIZER_H_
#define EVERGREEN_FIBER_INTERNAL_SANITIZER_H_

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define EVERGREEN_FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EVERGREEN_FIBER_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define EVERGREEN_FIBER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EVERGREEN_FIBER_TSAN 1
#endif
#endif

#if defined(EVERGREEN_FIBER_ASAN)
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(EVERGREEN_FIBER_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

#define EVERGREEN_FIBER_SANITIZER_HOOK __attribute__((always_inline)) inline

namespace evergreen::fiber_internal {

// Whether on_stack_assigned() reads the fiber's name (ThreadSanitizer names
// its fibers; nothing else does).
#if defined(EVERGREEN_FIBER_TSAN)
inline constexpr bool kSanitizerNamesFibers = true;
#else
inline constexpr bool kSanitizerNamesFibers = false;
#endif

// Per-fiber sanitizer bookkeeping; empty in normal builds.
struct SanitizerFiberState {
#if defined(EVERGREEN_FIBER_ASAN)
  void* fake_stack = nullptr;          // ASan's fake stack while suspended
  const void* stack_bottom = nullptr;  // lowest address of the fiber's stack
  size_t stack_size = 0;
#endif
#if defined(EVERGREEN_FIBER_TSAN)
  void* tsan_fiber = nullptr;
#endif
};

// The thread's original context: TSan already has a fiber for it; ASan needs
// the bounds of the thread's own stack.
inline void init_main_fiber(SanitizerFiberState& state) {
#if defined(EVERGREEN_FIBER_ASAN)
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
    void* bottom = nullptr;
    size_t size = 0;
    pthread_attr_getstack(&attributes, &bottom, &size);
    pthread_attr_destroy(&attributes);
    state.stack_bottom = bottom;
    state.stack_size = size;
  }
#endif
#if defined(EVERGREEN_FIBER_TSAN)
  state.tsan_fiber = __tsan_get_current_fiber();
#endif
  (void)state;
}

// A fiber got its stack [bottom, bottom + size) and is about to start.
inline void on_stack_assigned(SanitizerFiberState& state, const void* bottom, size_t size,
                              const char* name) {
#if defined(EVERGREEN_FIBER_ASAN)
  state.fake_stack = nullptr;
  state.stack_bottom = bottom;
  state.stack_size = size;
#endif
#if defined(EVERGREEN_FIBER_TSAN)
  state.tsan_fiber = __tsan_create_fiber(0);
  if (name != nullptr && name[0] != '\0') __tsan_set_fiber_name(state.tsan_fiber, name);
#endif
  (void)state, (void)bottom, (void)size, (void)name;
}

// A fiber has ended and another fiber is running: forget it, and make its
// stack clean for reuse (ASan leaves the poisoned redzones of the frames that
// were live when the fiber left its stack for good).
inline void on_stack_released(SanitizerFiberState& state, void* bottom, size_t size) {
#if defined(EVERGREEN_FIBER_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(bottom, size);
  state.fake_stack = nullptr;
#endif
#if defined(EVERGREEN_FIBER_TSAN)
  __tsan_destroy_fiber(state.tsan_fiber);
  state.tsan_fiber = nullptr;
#endif
  (void)state, (void)bottom, (void)size;
}

// Called on the running fiber just before it switches to `to`.
EVERGREEN_FIBER_SANITIZER_HOOK void before_switch(SanitizerFiberState& from,
                                                  const SanitizerFiberState& to) {
#if defined(EVERGREEN_FIBER_ASAN)
  __sanitizer_start_switch_fiber(&from.fake_stack, to.stack_bottom, to.stack_size);
#endif
#if defined(EVERGREEN_FIBER_TSAN)
  __tsan_switch_to_fiber(to.tsan_fiber, 0);
#endif
  (void)from, (void)to;
}

// Called on a fiber that has ended, just before its last switch.
EVERGREEN_FIBER_SANITIZER_HOOK void before_final_switch(const SanitizerFiberState& to) {
#if defined(EVERGREEN_FIBER_ASAN)
  __sanitizer_start_switch_fiber(nullptr, to.stack_bottom, to.stack_size);
#endif
#if defined(EVERGREEN_FIBER_TSAN)
  __tsan_switch_to_fiber(to.tsan_fiber, 0);
#endif
  (void)to;
}

// Called on the fiber that was just resumed (or started), right after the
// switch.
EVERGREEN_FIBER_SANITIZER_HOOK void after_switch(SanitizerFiberState& self) {
#if defined(EVERGREEN_FIBER_ASAN)
  __sanitizer_finish_switch_fiber(self.fake_stack, nullptr, nullptr);
#endif
  (void)self;
}

}  // namespace evergreen::fiber_internal

#undef EVERGREEN_FIBER_SANITIZER_HOOK

#endif  // EVERGREEN_FIBER_INTERNAL_SANITIZER_H_
