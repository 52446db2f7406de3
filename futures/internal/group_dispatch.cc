#include "evergreen/futures/internal/group_dispatch.h"

#include <exception>
#include <stdexcept>
#include <utility>

#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/scheduler.h"

namespace evergreen::futures::internal {
namespace {

using evergreen::internal::CrossThreadQueue;
using evergreen::internal::Scheduler;

// Travels with the call to the target loop. Whatever happens there (the call
// ran, lost its claim to cancel(), or its task was killed before it began
// and the call was dropped unrun), the destructor sends the state home
// exactly once, so the submitter's keep-alive is always released.
class Courier {
 public:
  Courier(std::shared_ptr<FutureStateBase> job, std::shared_ptr<CrossThreadQueue> home,
          std::shared_ptr<InFlight> in_flight)
      : job_(std::move(job)), home_(std::move(home)), in_flight_(std::move(in_flight)) {}
  Courier(Courier&& other) noexcept = default;
  Courier& operator=(Courier&&) = delete;
  ~Courier() {
    if (job_ != nullptr) send_home(Outcome::kNeverStarted);
  }

  // In the target loop's task: runs the call if cancel() did not come first,
  // sends the outcome home, then re-raises a kill that interrupted the call.
  void run() {
    if (!job_->claim()) {
      send_home(Outcome::kCancelled);
      return;
    }
    std::exception_ptr kill = job_->execute();
    send_home(Outcome::kRan);
    if (kill) std::rethrow_exception(kill);
  }

 private:
  enum class Outcome { kRan, kCancelled, kNeverStarted };

  void send_home(Outcome outcome) {
    auto on_home_loop = [job = std::move(job_), in_flight = std::move(in_flight_), outcome] {
      Scheduler::current().release();
      if (in_flight != nullptr && --in_flight->count == 0) in_flight->drained.notify_all();
      if (outcome == Outcome::kRan) FutureStateBase::finish(job);
      // The group stopped before the call began: it never will.
      if (outcome == Outcome::kNeverStarted) FutureStateBase::cancel(job);
    };
    try {
      Scheduler::call_from_thread(*home_, std::move(on_home_loop));
    } catch (const std::runtime_error&) {
      // The submitting loop was destroyed: nobody is left to tell.
    }
    job_ = nullptr;
  }

  std::shared_ptr<FutureStateBase> job_;
  std::shared_ptr<CrossThreadQueue> home_;
  std::shared_ptr<InFlight> in_flight_;
};

}  // namespace

void dispatch_to_group(LoopGroup& group, size_t index, std::shared_ptr<FutureStateBase> job,
                       std::shared_ptr<InFlight> in_flight) {
  Scheduler& home = Scheduler::current();
  home.retain();
  if (in_flight != nullptr) ++in_flight->count;
  // If post() refuses the call (index out of range, group stopped), the
  // courier is destroyed with the refused function and sends the state home
  // unrun, which undoes the accounting above.
  group.post(index, [courier = Courier(std::move(job), home.cross_thread_queue(),
                                       std::move(in_flight))]() mutable { courier.run(); });
}

}  // namespace evergreen::futures::internal
