// How an executor's destructor waits for its work: cooperatively, like
// shutdown(true), but a destructor cannot throw, so what interrupts the wait
// is dealt with here instead of propagating.
#ifndef EVERGREEN_FUTURES_INTERNAL_DESTRUCTOR_WAIT_H_
#define EVERGREEN_FUTURES_INTERNAL_DESTRUCTOR_WAIT_H_

#include <exception>

#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"

namespace evergreen::futures::internal {

// Runs `wait` (a blocking shutdown) and swallows what interrupts it:
// - a Timeout: the deadline ended the wait; the destructor goes on as where
//   it cannot wait at all.
// - a kill delivered to a task: re-queued with Task::kill(), so the task
//   still receives it at its next suspension point.
// - in the main context, the error of a loop that already ran to completion
//   (nothing could wait there any more).
template <class Wait>
void wait_in_destructor(Wait&& wait) noexcept {
  try {
    wait();
  } catch (const Timeout&) {
  } catch (...) {
    if (Task* task = Task::current()) task->kill(std::current_exception());
  }
}

}  // namespace evergreen::futures::internal

#endif  // EVERGREEN_FUTURES_INTERNAL_DESTRUCTOR_WAIT_H_
