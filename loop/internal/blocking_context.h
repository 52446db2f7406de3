// What a blocking call suspends: a task, or the thread's main context (the code
// that runs outside any task; its first blocking call starts the loop).
//
// The primitives in sync/, futures/ and io/ are built from four operations:
//   current_blocking_context()  who is calling (throws inside a loop callback),
//   park()                      give the thread to the loop until woken,
//   wake()                      put a parked context on the ready queue,
//   deliver()                   make a context raise an exception (kill, Timeout)
//                               at its current or next suspension point.
#ifndef EVERGREEN_LOOP_INTERNAL_BLOCKING_CONTEXT_H_
#define EVERGREEN_LOOP_INTERNAL_BLOCKING_CONTEXT_H_

#include <chrono>
#include <cstdint>
#include <exception>

#include "evergreen/fiber/fiber.h"
#include "evergreen/loop/internal/local_storage.h"
#include "evergreen/loop/internal/ready_queue.h"

namespace evergreen {
class Task;
}

namespace evergreen::internal {

class Scheduler;

struct BlockingContext final : ReadyNode {
  BlockingContext() : ReadyNode(/*is_context=*/true) {}
  void run_ready() override;
  void drop_unrun() override { scheduled = false; }

  Scheduler* loop = nullptr;
  Fiber* fiber = nullptr;
  Task* task = nullptr;  // null for the thread's main context
  // An exception delivered by kill() or a Timeout, raised at the next
  // suspension point. `pending_source` identifies who delivered it so a
  // cancelled Timeout can withdraw its delivery.
  std::exception_ptr pending;
  const void* pending_source = nullptr;
  // CancellationShields alive in this context, and the delivery they hold
  // back (moved to `pending` when the last one ends). See shield.h.
  std::exception_ptr held;
  const void* held_source = nullptr;
  uint32_t shield_depth = 0;
  bool scheduled = false;        // on the ready queue
  bool resumed_by_loop = false;  // main context: woken, rather than left by a finished loop
  // For diagnostics (debug.h): the blocking call this context is inside, in
  // the API's own words ("Queue::get"; a string literal, never freed), and
  // when it began. Set by WaitLabel (wait_label.h); null outside a labelled
  // call.
  const char* waiting_on = nullptr;
  std::chrono::steady_clock::time_point waiting_since{};
  // The context that must act before this one can go on (the task it joins,
  // the owner of the RLock it wants), when the call knows it: the deadlock
  // error follows these to show a cycle.
  const BlockingContext* waits_for = nullptr;
};

// The context making a blocking call. Throws std::runtime_error inside a loop
// callback (blocking there would stall the loop) and when this thread has no
// loop and cannot get one.
BlockingContext& current_blocking_context();

// The current context if the caller is in a task or the main context; null in
// a loop callback or on a thread without a loop.
BlockingContext* current_context_or_null();

// Suspends `self` (the running context) until wake(self). Does not raise a
// delivered exception. Throws std::runtime_error in the main context when the
// loop finished or stopped while it waited (nothing could ever wake it).
void park(BlockingContext& self);

// Throws the exception delivered to `self`, if any, clearing it.
void raise_pending(BlockingContext& self);

// park() then raise_pending().
void suspend(BlockingContext& self);

// Schedules `context` to resume (FIFO behind the ready queue). Idempotent until
// it runs.
void wake(BlockingContext& context);

// The running context `self` yields: it resumes after everything ready now,
// including tasks spawned earlier that still wait to start (a burst of
// spawns beyond a batch waits in the loop's start backlog), then raises a
// delivered exception as suspend() does. sleep(0s) is this.
void yield_to_loop(BlockingContext& self);

// Starts loading what resuming `context` will touch (its task object and the
// top of its stack). For timers firing in a batch: the woken tasks run one
// after another right after, each otherwise stalling on its own misses.
void prefetch_for_resume(const BlockingContext& context);

// Starts loading the object around a queued ready node (null: nothing)
// without reading the node itself. For tasks starting in a row (a burst of
// spawns), each of which would otherwise stall on its Task object, written
// long before. Usually the node is a task's context; for any other node the
// extra lines are harmless.
void prefetch_queued(const ReadyNode* node);

// Queues `error` to be raised in `context` at its current (or next) suspension
// point, and wakes it. An exception already pending is kept. While a
// CancellationShield is alive in `context` the delivery is held instead
// (same rule) and the context is not woken: shield_released() passes it on.
void deliver(BlockingContext& context, std::exception_ptr error, const void* source = nullptr);

// Withdraws a pending (or held) delivery made by `source` (a cancelled
// Timeout).
void withdraw(BlockingContext& context, const void* source);

// A CancellationShield begins in `context` (the running one): the first one
// holds back what is already pending, so calls inside block normally.
void shield_acquired(BlockingContext& context);

// A CancellationShield ends: when it was the last, what it held becomes
// pending again, raised at the context's next suspension point (every
// blocking call raises a pending delivery before it parks). Never throws.
void shield_released(BlockingContext& context);

// Makes the pending delivery, if any, permanent: withdraw() no longer removes
// it. For a delivery that code outside evergreen has already acted on (a C
// library's call failed because of it, under //patch): the library gave up,
// so the task must see why at its next suspension point, even if the Timeout
// that delivered it has been cancelled by then.
void keep_pending(BlockingContext& context);

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_BLOCKING_CONTEXT_H_
