#include "evergreen/loop/internal/blocking_context.h"

#include <atomic>
#include <cstddef>
#include <stdexcept>

#include "evergreen/fiber/internal/cache_line.h"
#include "evergreen/fiber/internal/fiber_access.h"
#include "evergreen/loop/internal/loop_core.h"
#include "evergreen/loop/task.h"

namespace evergreen::internal {
namespace {

using fiber_internal::kCacheLine;

// How much of a blocked task's stack, up from its saved stack pointer,
// resuming it touches: the frames of the blocking call and the task's own,
// about 450 bytes for a task blocked in sleep(). Lines past them are never
// read, and with a batch of timers firing they only crowd out lines that
// are.
constexpr size_t kResumedStackBytes = 512;
}  // namespace

void BlockingContext::run_ready() { LoopCore::of(*loop).resume(*this); }

BlockingContext* current_context_or_null() {
  LoopCore* core = LoopCore::for_this_thread();
  return core == nullptr ? nullptr : core->running_context();
}

BlockingContext& current_blocking_context() {
  // The main thread's loop is made on demand.
  Scheduler* loop = Scheduler::for_this_thread();
  BlockingContext* context =
      LoopCore::of(loop != nullptr ? *loop : Scheduler::current()).running_context();
  if (context == nullptr) {
    throw std::runtime_error(
        "evergreen: blocking call inside an event loop callback would stall the loop; "
        "run it in a task (spawn) instead");
  }
  return *context;
}

void park(BlockingContext& self) { LoopCore::of(*self.loop).park(self); }

void raise_pending(BlockingContext& self) {
  if (!self.pending) return;
  std::exception_ptr error = std::move(self.pending);
  self.pending = nullptr;
  self.pending_source = nullptr;
  std::rethrow_exception(error);
}

void suspend(BlockingContext& self) {
  park(self);
  raise_pending(self);
}

void wake(BlockingContext& context) {
  if (context.scheduled) return;
  context.scheduled = true;
  LoopCore::of(*context.loop).schedule(&context);
}

void yield_to_loop(BlockingContext& self) {
  if (!self.scheduled) {
    self.scheduled = true;
    LoopCore::of(*self.loop).schedule_yield(&self);
  }
  suspend(self);
}

void prefetch_for_resume(const BlockingContext& context) {
  if (context.task != nullptr) {
    fiber_internal::prefetch_for_read(reinterpret_cast<const char*>(context.task), sizeof(Task));
  }
  if (context.fiber != nullptr) {
    fiber_internal::FiberAccess::prefetch_stack(*context.fiber, kResumedStackBytes);
  }
}

void prefetch_queued(const ReadyNode* node) {
  if (node == nullptr) return;
  // A task's context (whose ReadyNode base is at its start) lies within the
  // first 48 bytes of its Task, which spawn() places just after the
  // shared_ptr control block (16 bytes: a vtable pointer and two counts):
  // from the line before the node to sizeof(Task) past it covers both.
  // Reading the node first to find its task would be the very miss this
  // hides.
  //
  // Checked here at compile time. Task is not standard-layout (it has
  // virtual functions), so the standard leaves offsetof on it
  // "conditionally-supported" and GCC warns; GCC and Clang compute it
  // exactly for a class without virtual bases, which Task has none of.
  // tests/loop/task_test.cc checks the same offset at run time.
  constexpr size_t kControlBlockBytes = 16;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
  static_assert(offsetof(Task, context_) + kControlBlockBytes <= kCacheLine,
                "prefetch_queued() would miss a task's shared_ptr control block");
#pragma GCC diagnostic pop
  fiber_internal::prefetch_for_read(reinterpret_cast<const char*>(node) - kCacheLine,
                                    kCacheLine + sizeof(Task));
}

namespace {

// Stores a delivery in a pending or held slot. A kill (no source) is never
// displaced; a Timeout's delivery may be.
void store_delivery(std::exception_ptr& slot, const void*& slot_source, std::exception_ptr error,
                    const void* source) {
  if (!slot || slot_source != nullptr) {
    slot = std::move(error);
    slot_source = source;
  }
}

}  // namespace

void deliver(BlockingContext& context, std::exception_ptr error, const void* source) {
  if (context.shield_depth > 0) {
    // Not woken: whatever it is blocked in goes on blocking.
    store_delivery(context.held, context.held_source, std::move(error), source);
    return;
  }
  store_delivery(context.pending, context.pending_source, std::move(error), source);
  wake(context);
}

void withdraw(BlockingContext& context, const void* source) {
  if (context.pending && context.pending_source == source) {
    context.pending = nullptr;
    context.pending_source = nullptr;
  }
  if (context.held && context.held_source == source) {
    context.held = nullptr;
    context.held_source = nullptr;
  }
}

void shield_acquired(BlockingContext& context) {
  if (context.shield_depth++ > 0 || !context.pending) return;
  store_delivery(context.held, context.held_source, std::move(context.pending),
                 context.pending_source);
  context.pending = nullptr;
  context.pending_source = nullptr;
}

void shield_released(BlockingContext& context) {
  if (--context.shield_depth > 0 || !context.held) return;
  store_delivery(context.pending, context.pending_source, std::move(context.held),
                 context.held_source);
  context.held = nullptr;
  context.held_source = nullptr;
}

void keep_pending(BlockingContext& context) { context.pending_source = nullptr; }

LocalStorage& current_local_storage() {
  thread_local LocalStorage outside_tasks;
  BlockingContext* context = current_context_or_null();
  if (context != nullptr && context->task != nullptr) return context->task->locals_;
  return outside_tasks;
}

uint64_t new_local_key() {
  static std::atomic<uint64_t> next_key{1};
  return next_key.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace evergreen::internal
