// Which guard region an address lies in, and which fiber owns the stack that
// guard protects: what the fault handler needs to name the fiber whose guard
// was hit, whether or not that fiber is the one running.
//
// Every stack slab of a thread is registered here while it is mapped (its
// StackPool does it). The registry is a per-thread, doubly linked list of
// records that live in the pools; the fault handler only walks it forward,
// and every change is one pointer store made after the record it publishes
// is complete, so a fault at any point of an update still sees a consistent
// list.
//
// A stack's owner is recorded in the top kOwnerRecordBytes of the stack
// itself (fibers start their first frame below it): the page is touched by
// the fiber's first frame anyway, so recording costs no extra memory and no
// lookup on the start path. The record carries a check word derived from its
// own address, so that a record overwritten by a stray write is recognised
// as such instead of being followed.
//
// Every function is async-signal-safe except where stated. All of it is
// per-thread: a thread sees only its own slabs.
#ifndef EVERGREEN_FIBER_INTERNAL_GUARD_REGISTRY_H_
#define EVERGREEN_FIBER_INTERNAL_GUARD_REGISTRY_H_

#include <atomic>
#include <cstddef>

namespace evergreen::fiber_internal {

// Bytes at the top of every pooled stack that hold its owner record.
inline constexpr size_t kOwnerRecordBytes = 16;

// One slab: `slots` slots of `slot_size` bytes from `low`, each a guard
// region of `guard_size` bytes followed by its stack.
struct GuardedSlab {
  const char* low = nullptr;
  size_t slot_size = 0;
  size_t guard_size = 0;
  size_t slots = 0;
  // Links of this thread's list (managed by register/unregister).
  std::atomic<GuardedSlab*> next{nullptr};
  GuardedSlab* previous = nullptr;
};

// Adds a complete record to this thread's list, or removes it. The record
// must stay valid while registered and be unregistered on the thread that
// registered it.
void register_slab(GuardedSlab& slab) noexcept;
void unregister_slab(GuardedSlab& slab) noexcept;

// A guard region that was hit, and its stack.
struct GuardHit {
  const char* guard_low = nullptr;  // guard: [guard_low, stack_low)
  const char* stack_low = nullptr;  // stack: [stack_low, stack_high)
  const char* stack_high = nullptr;
};

// find_guard()
//
// True if `address` lies in the guard region of one of this thread's slabs;
// fills `hit` with that guard and the stack above it.
bool find_guard(const void* address, GuardHit& hit) noexcept;

// set_stack_owner() / clear_stack_owner()
//
// Records `owner` as the owner of the stack [stack, stack + stack_size), or
// that the stack is unused. Not for signal handlers.
void set_stack_owner(char* stack, size_t stack_size, const void* owner) noexcept;
void clear_stack_owner(char* stack, size_t stack_size) noexcept;

// What a stack's owner record says.
enum class StackOwnerState { kUnused, kOwned, kOverwritten };

// stack_owner()
//
// Reads the owner record of the stack that ends at `stack_high`; on kOwned
// sets `owner`. A stack whose pages were returned to the kernel reads as
// unused (its record reads as zeros).
StackOwnerState stack_owner(const char* stack_high, const void*& owner) noexcept;

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_GUARD_REGISTRY_H_
