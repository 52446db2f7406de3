// Destroys this thread's event loop, if it has one, so that a test starts
// without any: a loop runs once, and a test before may have left the main
// thread's on-demand loop behind (or a task blocked in it).
#ifndef EVERGREEN_TESTS_FRESH_LOOP_H_
#define EVERGREEN_TESTS_FRESH_LOOP_H_

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/scheduler.h"

namespace evergreen::testing {

inline void destroy_this_threads_loop() {
  if (internal::Scheduler::for_this_thread() != nullptr) EventLoop::current().destroy();
}

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_FRESH_LOOP_H_
