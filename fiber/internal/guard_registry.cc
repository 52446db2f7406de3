#include "evergreen/fiber/internal/guard_registry.h"

#include <cstdint>

namespace evergreen::fiber_internal {
namespace {

// The head of this thread's list. initial-exec: readable from a signal
// handler without a call into the dynamic loader.
constinit thread_local std::atomic<GuardedSlab*> slabs
    __attribute__((tls_model("initial-exec"))){nullptr};

// The owner record: the owner, and a check word that is zero with it (an
// unused stack, or one whose pages were returned) or else derived from the
// owner and the record's address (anything else was overwritten).
struct OwnerRecord {
  uintptr_t owner;
  uintptr_t check;
};
static_assert(sizeof(OwnerRecord) == kOwnerRecordBytes);

constexpr uintptr_t kCheckSalt = 0x5a17'e7e1'9b3c'4d21u;

OwnerRecord* record_of(const char* stack_high) {
  // Stacks are page-aligned at both ends, so the record is aligned.
  return reinterpret_cast<OwnerRecord*>(const_cast<char*>(stack_high) - kOwnerRecordBytes);
}

uintptr_t check_word(uintptr_t owner, const OwnerRecord* record) {
  return owner ^ kCheckSalt ^ reinterpret_cast<uintptr_t>(record);
}

}  // namespace

void register_slab(GuardedSlab& slab) noexcept {
  GuardedSlab* head = slabs.load(std::memory_order_relaxed);
  slab.previous = nullptr;
  slab.next.store(head, std::memory_order_relaxed);
  if (head != nullptr) head->previous = &slab;
  // Release: a handler that sees the record sees it complete (the handler
  // runs on this thread, so this only orders the compiler's stores).
  slabs.store(&slab, std::memory_order_release);
}

void unregister_slab(GuardedSlab& slab) noexcept {
  GuardedSlab* next = slab.next.load(std::memory_order_relaxed);
  if (slab.previous != nullptr) {
    slab.previous->next.store(next, std::memory_order_release);
  } else {
    slabs.store(next, std::memory_order_release);
  }
  if (next != nullptr) next->previous = slab.previous;
}

bool find_guard(const void* address, GuardHit& hit) noexcept {
  const auto value = reinterpret_cast<uintptr_t>(address);
  for (const GuardedSlab* slab = slabs.load(std::memory_order_acquire); slab != nullptr;
       slab = slab->next.load(std::memory_order_acquire)) {
    const auto low = reinterpret_cast<uintptr_t>(slab->low);
    if (value < low || value - low >= slab->slots * slab->slot_size) continue;
    const size_t slot = (value - low) / slab->slot_size;
    const size_t offset = (value - low) % slab->slot_size;
    if (offset >= slab->guard_size) return false;  // in a stack, not a guard
    hit.guard_low = slab->low + slot * slab->slot_size;
    hit.stack_low = hit.guard_low + slab->guard_size;
    hit.stack_high = hit.guard_low + slab->slot_size;
    return true;
  }
  return false;
}

void set_stack_owner(char* stack, size_t stack_size, const void* owner) noexcept {
  OwnerRecord* record = record_of(stack + stack_size);
  const auto value = reinterpret_cast<uintptr_t>(owner);
  record->owner = value;
  record->check = check_word(value, record);
}

void clear_stack_owner(char* stack, size_t stack_size) noexcept {
  *record_of(stack + stack_size) = OwnerRecord{0, 0};
}

StackOwnerState stack_owner(const char* stack_high, const void*& owner) noexcept {
  const OwnerRecord* record = record_of(stack_high);
  const OwnerRecord copy = *record;
  if (copy.owner == 0 && copy.check == 0) return StackOwnerState::kUnused;
  if (copy.owner == 0 || copy.check != check_word(copy.owner, record)) {
    return StackOwnerState::kOverwritten;
  }
  owner = reinterpret_cast<const void*>(copy.owner);
  return StackOwnerState::kOwned;
}

}  // namespace evergreen::fiber_internal
