// The one way evergreen ends the process on a broken contract it cannot
// report as an exception (a fiber or task destroyed while it runs, a task
// that will not die): "evergreen: fatal: <message>" on stderr, then abort(),
// so a core dump shows the caller. In //fiber, the lowest component, so that
// every component can use it. (The stack-overflow handler writes its own
// message with the raw write system call: it runs inside a signal handler.)
#ifndef EVERGREEN_FIBER_INTERNAL_FATAL_ERROR_H_
#define EVERGREEN_FIBER_INTERNAL_FATAL_ERROR_H_

#include <string_view>

namespace evergreen::fiber_internal {

[[noreturn]] void fatal_error(std::string_view message);

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_FATAL_ERROR_H_
