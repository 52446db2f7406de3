// evergreen/fiber/fiber.h — stackful coroutines, switched explicitly.
//
// A Fiber runs a function (its target) on a stack of its own. Fibers are
// scheduled cooperatively: a fiber runs only when something switches to it,
// and runs until it switches to another fiber or its target ends. This is the
// python-fibers API; evergreen's event loop builds its tasks on it.
//
//   evergreen::Fiber* main = evergreen::Fiber::current();
//   evergreen::Fiber worker([&] {
//     std::puts("step 1");
//     main->switch_to();               // suspend; main continues
//     std::puts("step 2");
//   });                                // parent: the fiber current here (main)
//   worker.switch_to();                // prints "step 1", returns
//   worker.switch_to();                // prints "step 2"; the target returns,
//                                      // so control comes back to its parent
//   assert(!worker.is_alive());
//
// Guarantees:
//  * Control flow. A fiber does not run until switched to. When its target
//    returns, control goes to its parent: the parent's pending switch_to()
//    (or throw_into()) returns. When an exception escapes the target, the
//    fiber ends and the exception is re-thrown in the parent, from that same
//    pending call. If the parent has itself ended, its parent is used, and so
//    on; the thread's main fiber never ends.
//  * Threads. Every thread has a main fiber: its original context, created on
//    first use and owned by the thread. A Fiber belongs to the thread that
//    constructed it; switching to it, throwing into it or giving it a parent
//    of another thread throws. Fibers never move between threads, so
//    thread_local variables behave as usual within a fiber. When a thread
//    exits, its main fiber and all its stacks are freed: a fiber that
//    outlives its thread may only be destroyed (and only if it had not
//    started or had ended; a suspended one is lost with its thread).
//  * Per-fiber runtime state. errno and the C++ exception state (the
//    exception a catch block handles, what `throw;` re-throws,
//    std::current_exception(), std::uncaught_exceptions()) belong to each
//    fiber: a fiber suspended inside a catch block finds its exception intact
//    whatever other fibers throw and catch meanwhile. The floating-point
//    control state (rounding mode, exception masks) is NOT per fiber: it is
//    shared by the thread's fibers, because switching it would make every
//    switch several times slower.
//  * Stacks. Each fiber's stack is memory-mapped with a guard region below
//    it at least as large as the stack (and 64 KiB); an overflow ends the
//    process with "evergreen: stack overflow in fiber '<name>' (stack size N
//    bytes)" on stderr, never with silent corruption. Any frame that fits in
//    the stack faults in its own guard, however large and however it writes;
//    a fault in another fiber's guard names the fiber that owns it, and the
//    one running. (Only a frame larger than the whole stack, in code built
//    without -fstack-clash-protection, can step over the guard: build code
//    that runs on fiber stacks with that flag, as the README explains.)
//    A fiber takes its stack from a per-thread pool at its first switch and
//    gives it back as soon as its target ends, so ended fibers hold no stack;
//    see internal/stack_pool.h for the pooling and memory bounds.
//  * Cost. Constructing a Fiber makes no system call and allocates only if
//    the target's captures do not fit in absl::AnyInvocable's inline storage
//    (a thread's first use of fibers also allocates its main fiber).
//    A switch saves a few registers and swaps errno and the exception state:
//    a few nanoseconds, no system call.
//
// Thread safety: a Fiber may be used only on its own thread. The free
// functions default_stack_size() and set_default_stack_size() are
// thread-safe.
#ifndef EVERGREEN_FIBER_FIBER_H_
#define EVERGREEN_FIBER_FIBER_H_

// Said first, so that a consumer who forgets the flag reads this rather than
// pages of errors from the C++20 code below.
#if __cplusplus < 202002L
#error "evergreen needs C++20: compile with -std=c++20 (Bazel: --cxxopt=-std=c++20 in .bazelrc)"
#endif

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "evergreen/fiber/internal/context_switch.h"
#include "evergreen/fiber/internal/runtime_state.h"
#include "evergreen/fiber/internal/sanitizer.h"
#include "evergreen/fiber/internal/switch_state.h"

namespace evergreen {

namespace fiber_internal {
struct ThreadState;
struct FiberAccess;
class MainFiberKey;
struct FiberStack;
bool describe_running_fiber(FiberStack& out) noexcept;
bool describe_fiber_stack(const void* fiber, const char* stack_low, FiberStack& out) noexcept;
}  // namespace fiber_internal

// default_stack_size()
//
// The stack size given to fibers constructed with stack_size 0. Initially
// 64 KiB. Process-wide and thread-safe.
//
// Choosing a stack size. Memory is spent only on the pages a fiber touches
// (stacks are MAP_NORESERVE; a page becomes resident when first written), so
// a larger size costs no resident memory for a fiber that stays shallow. It
// does cost address space, an equal guard below each stack, and page-table
// pages (see internal/stack_pool.h): size for the deepest call chain the
// fiber can run, with a margin, not for comfort. Measured high-water marks
// (tests/patch/stack_depth_test, default build, x86-64, Debian 12, whole
// task counted, including evergreen's frames and patch()'s interposers):
//   libcurl 7.88 + OpenSSL 3, one https:// GET incl. TLS handshake and
//     certificate verification against a CA file ............ about 10 KiB
//   hiredis 0.14, connect + SET + GET ......................... about 19 KiB
// so the 64 KiB default leaves those unmodified blocking libraries a margin
// of three or more (the test fails if either passes half the default).
// Raise the size (per fiber, or here for all) for deep recursion, large
// local buffers (a `char buf[65536]` needs more than 64 KiB), or a library
// not measured here: run it once in a task with a generous stack, measure
// the high-water mark the way tests/patch/stack_high_water.h does, and
// allow at least double. Sanitizer builds (ASan, TSan) use several times
// more stack per frame. Exceeding the stack ends the process with a
// "stack overflow in fiber" message, never silent corruption.
size_t default_stack_size();

// set_default_stack_size()
//
// Sets the default stack size for fibers constructed from now on (fibers
// already constructed keep theirs). The size is rounded up to a whole number
// of pages. Throws std::invalid_argument if it is below 16 KiB (including 0)
// or above 1 GiB. Thread-safe.
void set_default_stack_size(size_t size);

class Fiber {
 public:
  // Fiber::Fiber()
  //
  // Creates a fiber that will run `target` when first switched to; it does
  // not run yet, and has no stack yet. `stack_size` 0 means
  // default_stack_size(); any other value is rounded up to whole pages and
  // must lie in [16 KiB, 1 GiB], or std::invalid_argument is thrown. `parent`
  // null means the fiber current now; a parent of another thread throws
  // std::invalid_argument. An empty `target` makes a fiber that ends as soon
  // as it starts.
  explicit Fiber(absl::AnyInvocable<void()> target, size_t stack_size = 0, Fiber* parent = nullptr);

  // Fiber::~Fiber()
  //
  // Destroys a fiber that has not started or has ended. Destroying a fiber
  // that has started and not ended (one suspended mid-target, or the running
  // one) is a fatal error, as for a joinable std::thread: a message naming
  // the fiber is written to stderr and the process aborts. A fiber must
  // outlive its use as another fiber's parent.
  ~Fiber();

  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Fiber::switch_to()
  //
  // Suspends the calling fiber and runs this one: starts it if it has not
  // started, resumes it where it last switched away otherwise. Returns when
  // some fiber switches back to the caller (or when a fiber whose parent is
  // the caller ends). Throws what a child fiber's target let escape (see the
  // file comment) and what throw_into() delivered to the caller. Throws
  // std::runtime_error, without switching, if this fiber has ended, is the
  // calling fiber, or belongs to another thread; starting a fiber may throw
  // std::system_error if no stack can be mapped.
  void switch_to();

  // Fiber::throw_into()
  //
  // Switches to this fiber and raises `exception` in it. A suspended fiber
  // gets it from the switch_to() (or throw_into()) call it is suspended in,
  // so it may catch it; a fiber that has not started ends without running its
  // target, and the exception goes to its parent as if the target had thrown
  // it. Called on the running fiber itself, it simply throws `exception`.
  // Throws std::runtime_error if this fiber has ended or belongs to another
  // thread, std::invalid_argument if `exception` is null; otherwise returns
  // or throws like switch_to().
  void throw_into(std::exception_ptr exception);

  // Fiber::is_alive()
  //
  // True until the target has returned or thrown (also before the fiber
  // starts). The main fiber is always alive.
  bool is_alive() const { return state_ != State::kEnded; }

  // Fiber::current()
  //
  // The fiber running on the calling thread. Never null: outside any fiber
  // this is the thread's main fiber, created on first use and destroyed when
  // the thread exits.
  static Fiber* current();

  // Fiber::parent()
  //
  // Where control goes when this fiber ends. Null only for a main fiber.
  Fiber* parent() const { return parent_; }

  // Fiber::set_parent()
  //
  // Changes where control goes when this fiber ends. Throws
  // std::invalid_argument if `parent` is null, belongs to another thread,
  // would make a cycle of parents, or if this is a main fiber.
  void set_parent(Fiber* parent);

  // Fiber::set_name() / Fiber::name()
  //
  // A name for diagnostics: fatal errors (stack overflow, destroying a
  // running fiber) name the fiber by it. Empty unless set; the main fiber is
  // "main". The event loop names each task's fiber after the task (a task
  // named by default is formatted "task-N" only when its name is read).
  void set_name(std::string name);
  const std::string& name() const {
    return name_number_ != 0 && name_->empty() ? numbered_name() : *name_;
  }

  // Fiber::stack_size()
  //
  // The size of this fiber's stack in bytes (a whole number of pages). Up to
  // 1 KiB at its top is left unused to spread stacks over the cache sets.
  // 0 for a main fiber, whose stack is the thread's own.
  size_t stack_size() const { return stack_size_; }

  // For the thread's state only: constructs the thread's main fiber.
  Fiber(fiber_internal::MainFiberKey, fiber_internal::ThreadState& thread);

 private:
  enum class State : unsigned char { kNotStarted, kStarted, kEnded };

  friend struct fiber_internal::FiberAccess;  // the loop's scheduling hints
  friend bool fiber_internal::describe_running_fiber(fiber_internal::FiberStack& out) noexcept;
  friend bool fiber_internal::describe_fiber_stack(const void* fiber, const char* stack_low,
                                                   fiber_internal::FiberStack& out) noexcept;

  // The parts of a switch outside the inline fast path: checks and errors,
  // starting a fiber, releasing an ended fiber's stack, raising a pending
  // exception.
  Fiber* switch_out_slow();
  void switch_in_slow();
  static Fiber* prepare_to_run(fiber_internal::ThreadState& thread, Fiber* to);
  static void switch_out(fiber_internal::SwitchState& thread, Fiber* from, Fiber* to) {
    from->runtime_.save(thread.runtime_slots);
    thread.current = to;
  }
  void switch_in(fiber_internal::SwitchState& thread) {
    runtime_.restore(thread.runtime_slots);
    if (thread.ended != nullptr || pending_) [[unlikely]] {
      switch_in_slow();
    }
  }
  void start(fiber_internal::ThreadState& thread);
  [[noreturn]] static void entry() noexcept;
  [[noreturn]] void finish(fiber_internal::ThreadState& thread, std::exception_ptr error) noexcept;
  static void reap_ended(fiber_internal::SwitchState& thread) noexcept;
  Fiber* alive_ancestor() const;
  [[noreturn]] void throw_not_switchable(const fiber_internal::SwitchState* thread,
                                         const char* operation) const;
  [[noreturn]] void fatal_destroyed_while_running() const;
  std::string describe() const;  // 'name', or <unnamed 0x...>
  const std::string& numbered_name() const;  // "task-N" from name_number_

  // Read on every switch.
  fiber_internal::MachineContext context_;  // registers while suspended
  fiber_internal::SwitchState* thread_;     // owning thread
  State state_ = State::kNotStarted;
  // Read when starting and ending; 32 bits (stacks are at most 1 GiB) so that
  // it fits beside state_ and name_number_ costs the fiber no space.
  uint32_t stack_size_;
  fiber_internal::RuntimeState runtime_;  // errno and exception state while suspended
  std::exception_ptr pending_;            // raised in this fiber when it resumes
  [[no_unique_address]] fiber_internal::SanitizerFiberState sanitizer_;
  // Read when starting and ending.
  Fiber* parent_;
  char* stack_ = nullptr;  // lowest usable address while the fiber holds a stack
  // See name_ (here because it fills the padding before target_, which is
  // 16-byte aligned).
  uint64_t name_number_ = 0;
  absl::AnyInvocable<void()> target_;
  // The name is *name_: own_name_ (from set_name()), a string named by
  // FiberAccess::use_name(), or a shared empty one; but while *name_ is empty
  // and name_number_ is not 0 (FiberAccess::use_name() with a number), it is
  // "task-<name_number_>", formatted into own_name_ when first read
  // (fiber/internal/numbered_name.h).
  mutable std::unique_ptr<const std::string> own_name_;
  const std::string* name_;
};

// Inline so that the machine switch happens in the caller's frame. A switch
// inside an out-of-line function would return, on the other fiber, through a
// `ret` that the CPU's return-stack predictor always gets wrong; and the
// bookkeeping is a handful of loads and stores, cheaper than two calls.
inline void Fiber::switch_to() {
  fiber_internal::SwitchState* thread = fiber_internal::this_thread_state;
  Fiber* from;
  if (thread_ == thread && state_ == State::kStarted && thread->current != this) [[likely]] {
    from = thread->current;
    switch_out(*thread, from, this);
  } else {
    from = switch_out_slow();
  }
  fiber_internal::before_switch(from->sanitizer_, sanitizer_);
  fiber_internal::switch_context(from->context_, context_);
  fiber_internal::after_switch(from->sanitizer_);
  // Resumed (possibly much later): `from` is the running fiber again, on the
  // same thread, since fibers never change threads.
  from->switch_in(*fiber_internal::this_thread_state);
}

}  // namespace evergreen

#endif  // EVERGREEN_FIBER_FIBER_H_
