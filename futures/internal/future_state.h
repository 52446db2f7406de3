// The shared state behind Future handles: one submitted call and its outcome.
//
// Threading: everything here belongs to the thread of the loop the future
// was created on, with two exceptions that make ThreadPoolExecutor work
// without locks on the state:
// - claim() is atomic: the runner (a worker task or thread) and cancel()
//   race for it, and exactly one wins, so a call never both starts and is
//   cancelled.
// - execute() may run on a worker thread. It writes only the outcome (value
//   or exception), which the loop thread reads only after finish(), and the
//   worker hands the state back through EventLoop::call_from_thread, whose
//   queue orders the two.
#ifndef EVERGREEN_FUTURES_INTERNAL_FUTURE_STATE_H_
#define EVERGREEN_FUTURES_INTERNAL_FUTURE_STATE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/intrusive_list.h"
#include "evergreen/loop/internal/thread_affinity.h"
#include "evergreen/loop/internal/wait_queue.h"

namespace evergreen::futures {
class FutureBase;
}

namespace evergreen::futures::internal {

class FutureStateBase;
class CompletionListener;

// One registration of a CompletionListener (wait(), as_completed()) with one
// future. Owned by the listener; the future unlinks it when it completes.
struct CompletionLink : evergreen::internal::IntrusiveListNode<CompletionLink> {
  CompletionListener* listener = nullptr;
  size_t tag = 0;                    // the listener's own bookkeeping
  FutureStateBase* state = nullptr;  // non-null while linked
};

class CompletionListener {
 public:
  // Called once when the linked future completes (finished or cancelled),
  // after `link` was unlinked. Must not block or throw.
  virtual void on_complete(CompletionLink& link) = 0;

 protected:
  ~CompletionListener() = default;
};

class FutureStateBase {
 public:
  using DoneCallback = absl::AnyInvocable<void(FutureBase&)>;

  // The future belongs to the calling thread's loop (Executor::submit runs
  // there).
  FutureStateBase() { affinity_.bind_to_this_thread(); }
  virtual ~FutureStateBase();
  FutureStateBase(const FutureStateBase&) = delete;
  FutureStateBase& operator=(const FutureStateBase&) = delete;

  // Throws std::logic_error unless called on the thread the future belongs
  // to (builds without NDEBUG): every Future member calls it first.
  void check_thread(const char* member) const { affinity_.check(this, "Future", member); }

  bool done() const { return status_ == Status::kFinished || status_ == Status::kCancelled; }
  bool cancelled() const { return status_ == Status::kCancelled; }
  // Finished by raising (not cancelled).
  bool failed() const { return status_ == Status::kFinished && error_ != nullptr; }

  // Any thread. The right to start the call or to cancel it: true for the
  // first caller only.
  bool claim() {
    bool expected = false;
    return claimed_.compare_exchange_strong(expected, true, std::memory_order_acq_rel);
  }
  // A worker task claimed the call and starts it (for cancel() to refuse).
  void mark_running() { status_ = Status::kRunning; }

  // Runs the call in the calling context and records its outcome, without
  // completing the future (the caller does, with finish(), on the loop
  // thread). Then frees the callable and its arguments. If the call was
  // interrupted by a kill (TaskExit), the future records a
  // std::runtime_error instead and the kill is returned, for the worker to
  // re-raise once the future is complete.
  virtual std::exception_ptr execute() noexcept = 0;
  // Frees the callable and its arguments of a call that will never run.
  virtual void drop_call() noexcept = 0;
  // Identifies the value type, for the checked FutureBase -> Future<T>.
  virtual const std::type_info& value_type() const noexcept = 0;

  // Completes a claimed call with the outcome execute() recorded: wakes
  // getters and listeners, then runs the done callbacks (see run_callback).
  // Re-raises a kill a callback received, after every callback ran.
  static void finish(const std::shared_ptr<FutureStateBase>& self);
  // Future::cancel(): true if the call is (now) cancelled.
  static bool cancel(const std::shared_ptr<FutureStateBase>& self);
  // Future::add_done_callback(): queues `callback`, or runs it now if done.
  static void add_done_callback(const std::shared_ptr<FutureStateBase>& self,
                                DoneCallback callback);

  // Blocks until done, throwing TimeoutError when `timeout` passes first;
  // then throws CancelledError or the call's exception, if any. Raises a
  // kill or Timeout delivered while blocked.
  void wait_for_outcome(std::optional<Duration> timeout);

  // Registers a listener's link (the future must not be done yet) / removes
  // it if still linked.
  void watch(CompletionLink& link);
  void unwatch(CompletionLink& link);

 protected:
  void set_exception(std::exception_ptr error) { error_ = std::move(error); }

 private:
  enum class Status : uint8_t { kPending, kRunning, kFinished, kCancelled };

  static void complete(const std::shared_ptr<FutureStateBase>& self, Status status);

  Status status_ = Status::kPending;
  std::atomic<bool> claimed_{false};
  std::exception_ptr error_;
  evergreen::internal::WaitQueue getters_;
  evergreen::internal::IntrusiveList<CompletionLink> links_;
  std::vector<DoneCallback> callbacks_;
  evergreen::internal::ThreadAffinity affinity_;
};

// Where a call's value lives: a value, the address a reference refers to, or
// nothing for void. Written once by execute(); take() empties it.
template <class R>
struct ValueSlot {
  template <class Produce>
  void fill(Produce&& produce) {
    value.emplace(std::forward<Produce>(produce)());
  }
  std::optional<R> value;
};

template <class R>
struct ValueSlot<R&> {
  template <class Produce>
  void fill(Produce&& produce) {
    pointer = std::addressof(std::forward<Produce>(produce)());
  }
  R* pointer = nullptr;
};

template <>
struct ValueSlot<void> {
  template <class Produce>
  void fill(Produce&& produce) {
    std::forward<Produce>(produce)();
  }
};

template <class R>
class FutureState : public FutureStateBase {
 public:
  const std::type_info& value_type() const noexcept final { return typeid(std::type_identity<R>); }
  ValueSlot<R> slot;
};

// What a TaskExit interrupting a call leaves in its future.
std::exception_ptr killed_worker_error();
// What a call that threw TaskExit on a thread without tasks (a
// ThreadPoolExecutor thread) leaves in its future.
std::exception_ptr call_raised_task_exit_error();

}  // namespace evergreen::futures::internal

#endif  // EVERGREEN_FUTURES_INTERNAL_FUTURE_STATE_H_
