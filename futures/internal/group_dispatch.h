// How a call crosses to a loop of a LoopGroup and its outcome comes back
// (futures::submit_to, LoopGroupExecutor).
//
// The submitting loop (the caller's) keeps a keep-alive while the call is in
// flight, so EventLoop::run() and a blocked main context wait for it. The
// call runs in a new task on the target loop: it is claimed there (losing to
// a cancel() that came first), executed, and its state is handed back with
// EventLoop::call_from_thread; the future completes in that callback, on the
// submitting loop's thread, as with ThreadPoolExecutor. If the target loop
// ends before the call started (LoopGroup::stop()), the future is cancelled;
// if it is killed while running, the future holds the error a killed worker
// leaves (see errors.h).
#ifndef EVERGREEN_FUTURES_INTERNAL_GROUP_DISPATCH_H_
#define EVERGREEN_FUTURES_INTERNAL_GROUP_DISPATCH_H_

#include <cstddef>
#include <memory>

#include "evergreen/futures/internal/future_state.h"
#include "evergreen/loop/internal/wait_queue.h"
#include "evergreen/loop/loop_group.h"

namespace evergreen::futures::internal {

// What a submitter counts of its calls in flight (LoopGroupExecutor's
// shutdown(true) waits for zero). Touched on the submitting loop only.
struct InFlight {
  size_t count = 0;
  evergreen::internal::WaitQueue drained;
};

// Sends `job` to loop `index` of `group`. Must be called on a thread with a
// loop (the main thread's is made on demand): that loop gets the outcome.
// `in_flight` (may be null) is raised now and lowered when the outcome is
// back. Throws what LoopGroup::post() throws (the job is then not sent).
void dispatch_to_group(LoopGroup& group, size_t index, std::shared_ptr<FutureStateBase> job,
                       std::shared_ptr<InFlight> in_flight);

}  // namespace evergreen::futures::internal

#endif  // EVERGREEN_FUTURES_INTERNAL_GROUP_DISPATCH_H_
