#include "evergreen/fiber/fiber.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>

#include "evergreen/fiber/internal/cache_line.h"
#include "evergreen/fiber/internal/context_switch.h"
#include "evergreen/fiber/internal/fatal_error.h"
#include "evergreen/fiber/internal/guard_registry.h"
#include "evergreen/fiber/internal/numbered_name.h"
#include "evergreen/fiber/internal/overflow_guard.h"
#include "evergreen/fiber/internal/sanitizer.h"
#include "evergreen/fiber/internal/stack_pool.h"
#include "evergreen/fiber/internal/thread_state.h"

namespace evergreen {
namespace {

using fiber_internal::ThreadState;

constexpr size_t kMinStackSize = 16 * 1024;
constexpr size_t kMaxStackSize = size_t{1} << 30;
constexpr size_t kInitialDefaultStackSize = 64 * 1024;

using fiber_internal::kCacheLine;

// How much of the next free stack a fiber start prefetches: about what the
// frames of a fiber that starts and blocks at once (a task) occupy - a task
// that starts and sleeps reaches about 450 bytes below its first frame.
// Lines it will not touch only compete with the ones it will.
constexpr size_t kPrefetchedStartLines = 8;

std::atomic<size_t> default_stack_size_bytes{kInitialDefaultStackSize};

size_t checked_stack_size(size_t size) {
  if (size < kMinStackSize || size > kMaxStackSize) {
    throw std::invalid_argument("evergreen: fiber stack size " + std::to_string(size) +
                                " is out of range (16 KiB to 1 GiB)");
  }
  const size_t page = fiber_internal::page_size();
  return (size + page - 1) / page * page;
}

// Where a fiber's first frame starts, as an offset from the stack's lowest
// address: 1 to 16 cache lines below the top, above it the stack's owner
// record (guard_registry.h). The offset varies from stack to stack: stacks lie
// a whole number of pages apart, so without it the hottest frames of every
// fiber would share the same few L1 cache sets and evict one another.
size_t initial_top_offset(const char* stack, size_t size) {
  static_assert(fiber_internal::kOwnerRecordBytes <= kCacheLine);
  // A multiplicative hash of the page number picks the offset, so it is fixed
  // per stack slot (a reused stack keeps its warm lines).
  const uint64_t page_number = reinterpret_cast<uintptr_t>(stack) >> 12;
  const size_t lines = static_cast<size_t>((page_number * 0x9E3779B97F4A7C15ull) >> 60);
  return size - (lines + 1) * kCacheLine;
}

// Leaked on purpose, so that a fiber still being described while statics
// are destroyed at exit finds it intact.
const std::string& empty_name() {
  static const std::string* const empty = new std::string();
  return *empty;
}

}  // namespace

// --- Default stack size ----------------------------------------------------------

size_t default_stack_size() { return default_stack_size_bytes.load(std::memory_order_relaxed); }

void set_default_stack_size(size_t size) {
  default_stack_size_bytes.store(checked_stack_size(size), std::memory_order_relaxed);
}

// --- Construction and destruction ------------------------------------------------

Fiber::Fiber(absl::AnyInvocable<void()> target, size_t stack_size, Fiber* parent)
    : thread_(&ThreadState::get()),
      stack_size_(static_cast<uint32_t>(stack_size == 0 ? default_stack_size()
                                                        : checked_stack_size(stack_size))),
      parent_(parent != nullptr ? parent : thread_->current),
      target_(std::move(target)),
      name_(&empty_name()) {
  if (parent_->thread_ != thread_) {
    throw std::invalid_argument("evergreen: a fiber's parent must belong to the same thread");
  }
}

Fiber::Fiber(fiber_internal::MainFiberKey, ThreadState& thread)
    : thread_(&thread),
      state_(State::kStarted),
      stack_size_(0),
      parent_(nullptr),
      own_name_(std::make_unique<const std::string>("main")),
      name_(own_name_.get()) {
  fiber_internal::init_main_fiber(sanitizer_);
}

Fiber::~Fiber() {
  // A main fiber (the only one without a parent) is destroyed at thread exit.
  if (state_ == State::kStarted && parent_ != nullptr) [[unlikely]] {
    fatal_destroyed_while_running();
  }
}

void Fiber::fatal_destroyed_while_running() const {
  fiber_internal::fatal_error("fiber " + describe() +
                              " destroyed while it is running or suspended (it started and its "
                              "target has not ended)");
}

std::string Fiber::describe() const {
  if (!name().empty()) return "'" + name() + "'";
  char address[32];
  std::snprintf(address, sizeof address, "%p", static_cast<const void*>(this));
  return std::string("<unnamed ") + address + ">";
}

// --- Accessors ---------------------------------------------------------------------

Fiber* Fiber::current() { return ThreadState::get().current; }

void Fiber::set_parent(Fiber* parent) {
  if (parent_ == nullptr) {
    throw std::invalid_argument("evergreen: a main fiber has no parent to change");
  }
  if (parent == nullptr) throw std::invalid_argument("evergreen: a fiber's parent cannot be null");
  if (parent->thread_ != thread_) {
    throw std::invalid_argument("evergreen: a fiber's parent must belong to the same thread");
  }
  for (const Fiber* ancestor = parent; ancestor != nullptr; ancestor = ancestor->parent_) {
    if (ancestor == this) {
      throw std::invalid_argument("evergreen: cannot make fiber " + parent->describe() +
                                  " the parent of fiber " + describe() +
                                  ": the parents would form a cycle");
    }
  }
  parent_ = parent;
}

void Fiber::set_name(std::string name) {
  // name_ moves to the new string before the old one is freed: the overflow
  // handler may read it at any moment.
  auto own_name = std::make_unique<const std::string>(std::move(name));
  name_ = own_name.get();
  own_name_ = std::move(own_name);
  name_number_ = 0;
}

const std::string& Fiber::numbered_name() const {
  if (own_name_ == nullptr) {
    char buffer[fiber_internal::kNumberedNameCapacity];
    const size_t length = fiber_internal::format_numbered_name(name_number_, buffer);
    own_name_ = std::make_unique<const std::string>(buffer, length);
  }
  return *own_name_;
}

Fiber* Fiber::alive_ancestor() const {
  Fiber* ancestor = parent_;
  while (ancestor->state_ == State::kEnded) ancestor = ancestor->parent_;
  return ancestor;
}

// --- Switching -----------------------------------------------------------------------
//
// A switch from fiber A to fiber B is: switch_out(A, B) and the sanitizer
// hook on A, the machine switch, then the sanitizer hook and switch_in() on
// B. switch_to() does all of it inline in its caller (see fiber.h), calling
// out only for rare cases; throw_into() and finish() do it here.

void Fiber::throw_not_switchable(const fiber_internal::SwitchState* thread,
                                 const char* operation) const {
  if (thread_ != thread) {
    throw std::runtime_error(std::string("evergreen: cannot ") + operation + " fiber " +
                             describe() + ": it belongs to another thread");
  }
  throw std::runtime_error(std::string("evergreen: cannot ") + operation + " fiber " + describe() +
                           ": it has ended");
}

Fiber* Fiber::switch_out_slow() {
  fiber_internal::SwitchState* thread = fiber_internal::this_thread_state;
  if (thread_ != thread || state_ == State::kEnded) throw_not_switchable(thread, "switch to");
  Fiber* from = thread->current;
  if (from == this) {
    throw std::runtime_error("evergreen: fiber " + describe() + " cannot switch to itself");
  }
  if (state_ == State::kNotStarted) start(ThreadState::of(*thread));
  switch_out(*thread, from, this);
  return from;
}

void Fiber::switch_in_slow() {
  fiber_internal::SwitchState& thread = *fiber_internal::this_thread_state;
  if (thread.ended != nullptr) reap_ended(thread);
  if (pending_) std::rethrow_exception(std::exchange(pending_, nullptr));
}

void Fiber::throw_into(std::exception_ptr exception) {
  if (!exception) throw std::invalid_argument("evergreen: throw_into() needs an exception");
  fiber_internal::SwitchState* thread = fiber_internal::this_thread_state;
  if (thread_ != thread || state_ == State::kEnded) throw_not_switchable(thread, "throw into");
  Fiber* from = thread->current;
  if (from == this) std::rethrow_exception(std::move(exception));
  pending_ = std::move(exception);
  Fiber* to = this;
  if (to->state_ != State::kStarted) {
    to = prepare_to_run(ThreadState::of(*thread), to);
    if (to == from) {
      // The fiber never started; its parent is the caller.
      std::rethrow_exception(std::exchange(from->pending_, nullptr));
    }
  }
  switch_out(*thread, from, to);
  fiber_internal::before_switch(from->sanitizer_, to->sanitizer_);
  fiber_internal::switch_context(from->context_, to->context_);
  fiber_internal::after_switch(from->sanitizer_);
  from->switch_in(*thread);  // same thread: fibers never move
}

Fiber* Fiber::prepare_to_run(ThreadState& thread, Fiber* to) {
  // A fiber that has not started but has an exception to raise ends without
  // running its target: the exception goes to its parent instead, which may
  // be the caller itself.
  while (to->state_ == State::kNotStarted && to->pending_) {
    std::exception_ptr error = std::exchange(to->pending_, nullptr);
    to->state_ = State::kEnded;
    to->target_ = nullptr;
    to = to->alive_ancestor();
    to->pending_ = std::move(error);
  }
  if (to->state_ == State::kNotStarted) to->start(thread);
  return to;
}

void Fiber::start(ThreadState& thread) {
  const char* next_stack = nullptr;
  stack_ = thread.pools().allocate(stack_size_, &next_stack);
  fiber_internal::set_stack_owner(stack_, stack_size_, this);
  fiber_internal::prepare_context(context_, stack_ + initial_top_offset(stack_, stack_size_),
                                  &Fiber::entry);
  // Fibers tend to start in bursts (a batch of new tasks), and the next one
  // will most likely get the pool's next free stack: start loading the lines
  // its first frames will use, so that their TLB and cache misses overlap
  // with this fiber's run instead of stalling the next start.
  if (next_stack != nullptr) {
    fiber_internal::prefetch_for_write_below(
        next_stack + initial_top_offset(next_stack, stack_size_), kPrefetchedStartLines);
  }
  // Only ThreadSanitizer reads the name here: formatting a default name for
  // every start in other builds would undo its laziness.
  fiber_internal::on_stack_assigned(sanitizer_, stack_, stack_size_,
                                    fiber_internal::kSanitizerNamesFibers ? name().c_str()
                                                                          : nullptr);
  state_ = State::kStarted;
}

void Fiber::entry() noexcept {
  ThreadState& thread = ThreadState::of(*fiber_internal::this_thread_state);
  Fiber* self = thread.current;
  fiber_internal::after_switch(self->sanitizer_);
  // A new fiber starts with errno 0 and no exception caught or in flight.
  self->runtime_ = fiber_internal::RuntimeState{};
  self->runtime_.restore(thread.runtime_slots);
  if (thread.ended != nullptr) reap_ended(thread);
  std::exception_ptr error;
  try {
    if (self->target_) self->target_();
  } catch (...) {
    error = std::current_exception();
  }
  self->finish(thread, std::move(error));
}

void Fiber::finish(ThreadState& thread, std::exception_ptr error) noexcept {
  target_ = nullptr;  // the target's captures are destroyed now, on this stack
  state_ = State::kEnded;
  Fiber* to = alive_ancestor();
  if (error) to->pending_ = std::move(error);
  if (to->state_ != State::kStarted) to = prepare_to_run(thread, to);
  // This stack is released by whichever fiber runs next (reap_ended).
  thread.ended = this;
  thread.current = to;
  fiber_internal::before_final_switch(to->sanitizer_);
  fiber_internal::switch_context(context_, to->context_);
  __builtin_unreachable();
}

void Fiber::reap_ended(fiber_internal::SwitchState& thread) noexcept {
  Fiber* ended = std::exchange(thread.ended, nullptr);
  fiber_internal::on_stack_released(ended->sanitizer_, ended->stack_, ended->stack_size_);
  fiber_internal::clear_stack_owner(ended->stack_, ended->stack_size_);
  ThreadState::of(thread).stacks->pools.release(ended->stack_, ended->stack_size_);
  ended->stack_ = nullptr;
}

// --- For the overflow handler ----------------------------------------------------

namespace {

void describe_fiber(const Fiber& fiber, const char* stack, size_t stack_size,
                    const std::string& name, uint64_t name_number,
                    fiber_internal::FiberStack& out) {
  out.stack_low = stack;
  out.stack_high = stack != nullptr ? stack + stack_size : nullptr;
  out.name = name.data();
  out.name_length = name.size();
  // Formatted by the handler itself: Fiber::name() may allocate.
  out.name_number = name.empty() ? name_number : 0;
  out.fiber = &fiber;
}

}  // namespace

bool fiber_internal::describe_running_fiber(FiberStack& out) noexcept {
  const SwitchState* thread = this_thread_state;
  if (thread == nullptr || thread->current == nullptr) return false;
  const Fiber* fiber = thread->current;
  describe_fiber(*fiber, fiber->stack_, fiber->stack_size_, *fiber->name_, fiber->name_number_,
                 out);
  return true;
}

bool fiber_internal::describe_fiber_stack(const void* owner, const char* stack_low,
                                          FiberStack& out) noexcept {
  // The record was intact, so `owner` is a fiber of this thread that holds a
  // stack (a fiber clears the record before it lets go of its stack). Check
  // that it is this one all the same.
  const Fiber* fiber = static_cast<const Fiber*>(owner);
  if (fiber->stack_ != stack_low) return false;
  describe_fiber(*fiber, fiber->stack_, fiber->stack_size_, *fiber->name_, fiber->name_number_,
                 out);
  return true;
}

}  // namespace evergreen
