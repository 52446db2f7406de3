// The per-thread C and C++ runtime state that must follow a fiber.
//
// Two pieces of thread-local runtime state are really per-flow-of-control:
//
//  * errno. A fiber that reads errno after a failed call must see the value
//    that call set, even if other fibers ran in between.
//  * The C++ exception-handling globals (__cxa_eh_globals): the stack of
//    exceptions currently caught (what `throw;` and std::current_exception()
//    see) and the count of exceptions in flight (std::uncaught_exceptions()).
//    A fiber suspended inside a catch block would otherwise have its caught
//    exception replaced or popped by another fiber's try/catch.
//
// Each fiber saves both when it switches out and restores them when it is
// resumed. The thread's slots are looked up once per thread and cached, so a
// switch costs a few loads and stores, no calls.
#ifndef EVERGREEN_FIBER_INTERNAL_RUNTIME_STATE_H_
#define EVERGREEN_FIBER_INTERNAL_RUNTIME_STATE_H_

#include <cxxabi.h>

#include <cerrno>

namespace evergreen::fiber_internal {

// Mirrors the leading members of the C++ ABI's __cxa_eh_globals, which both
// libstdc++ and libc++ lay out this way (cxxabi.h declares the type opaque).
// ARM EHABI adds a third member, which stays per-thread.
struct EhGlobals {
  void* caught_exceptions = nullptr;
  unsigned int uncaught_exceptions = 0;
};

// Where this thread keeps errno and the exception globals.
struct RuntimeSlots {
  int* errno_slot = nullptr;
  EhGlobals* eh_slot = nullptr;

  static RuntimeSlots for_this_thread() {
    return RuntimeSlots{&errno, reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals())};
  }
};

// A fiber's copy while it is suspended. A new fiber starts with errno 0 and
// no exception caught or in flight.
struct RuntimeState {
  int saved_errno = 0;
  EhGlobals eh;

  void save(const RuntimeSlots& slots) {
    saved_errno = *slots.errno_slot;
    eh = *slots.eh_slot;
  }
  void restore(const RuntimeSlots& slots) const {
    *slots.errno_slot = saved_errno;
    *slots.eh_slot = eh;
  }
};

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_RUNTIME_STATE_H_
