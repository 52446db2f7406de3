// Fiber stacks: memory-mapped, guarded, carved from slabs, reused LIFO.
//
// Layout. A slab is one anonymous mapping holding up to 64 stack slots; each
// slot is a guard region followed by the usable stack (stacks grow down, so
// the guard sits just below the lowest usable address, and below the guard
// lies the top of the neighbouring slot's stack).
//
// Guard size. The guard below a stack of S bytes is guard_size_for(S) =
// max(S, 64 KiB) rounded to pages, never a single page. The argument:
//
//  * A frame (or alloca, or a callee's buffer) of F bytes allocated while the
//    stack pointer is anywhere in the stack, at sp >= stack_low, touches only
//    [sp - F, sp). If F <= guard size, sp - F >= stack_low - guard size, so
//    every byte it can touch lies in its own stack or in its own guard: it
//    faults in the guard, whatever order it writes in and whether or not the
//    code was compiled with stack-clash probing. With the guard at least the
//    stack size, this covers every frame that could fit in the stack at all.
//  * A frame larger than the whole stack overflows wherever it starts. Code
//    compiled with -fstack-clash-protection (all of ours) touches such a
//    frame at least once per probe interval as it allocates it, top down:
//    every 4 KiB on x86-64, every 64 KiB on aarch64 (GCC's default there
//    assumes a 64 KiB guard, hence the 64 KiB minimum). The first probe
//    below the stack lands in the guard. Only unprobed code with a frame
//    larger than its whole stack can still step over the guard; the README
//    tells users to compile with -fstack-clash-protection for that reason.
//
// Cost. A guard costs no memory of its own: MADV_GUARD_INSTALL (Linux
// 6.13+) marks its pages in the page table without splitting the mapping,
// so a slab stays ONE kernel mapping however many guards it has (a million
// 64 KiB stacks need about 16,000 mappings, well under the default
// vm.max_map_count of 65,530). What it does cost is address space, and the
// page tables that span it: a slab whose stacks are all in use is spanned by
// page-table pages at 8 bytes per 4 KiB page, so 64 KiB stacks with 64 KiB
// guards cost 256 bytes of page table per stack instead of 136 bytes with a
// one-page guard (measured: 137 -> 257 bytes per idle fiber). Older kernels
// fall back to mprotect(PROT_NONE), which needs no page tables but splits
// the mapping at every guard (and so limits the number of live fibers to
// roughly half of vm.max_map_count).
//
// Every slab is registered in this thread's guard registry (see
// guard_registry.h) while it is mapped, so that a fault in any of its guards
// can be reported with the name of the fiber whose stack it protects.
//
// Mappings are MAP_NORESERVE (no commit charge for untouched stack) and
// MADV_NOHUGEPAGE (a 2 MiB huge page would turn a few KiB of used stack into
// 2 MiB of memory). When a slab is created, the top page of every slot is
// faulted in by one vectored process_madvise(MADV_POPULATE_WRITE) call where
// the kernel allows it: measured on the development VM, a stack's first use
// then costs about half of what a first-touch page fault costs.
//
// Reuse. Released stacks go on a per-size LIFO free list, so the stack reused
// next is the most recently used one, still in cache and with its pages
// mapped.
//
// Memory bound. Free stacks keep their pages while they are likely to be
// reused: returning pages that are needed again a moment later would make
// every reuse pay a page fault (about 10 us). A stack counts as idle once it
// has stayed free for a whole interval of about a second (the free list never
// shrank down to it: its low-water mark). Idle stacks beyond
// warm_limit() = clamp(256 MiB / stack size, 16, 4096) most recently used
// ones (4096 for 64 KiB stacks) have their pages returned with MADV_DONTNEED;
// address-adjacent ones share one call. So after a burst of a million
// fibers, the memory of all but a few thousand stacks is returned within one
// or two idle intervals (measured: 300,000 ended fibers, 751 MB resident, down
// to 78 MB two seconds later), while a steady load reuses warm stacks without
// faults. The
// check runs on pool activity (every 64th allocation or release while free
// stacks exceed the limit; it reads a coarse vDSO clock, no system call); a
// thread that stops using fibers altogether keeps its free stacks until it
// uses fibers again or exits. Slabs are unmapped when the pool is destroyed,
// at thread exit.
//
// Every pool belongs to one thread and is not thread-safe.
#ifndef EVERGREEN_FIBER_INTERNAL_STACK_POOL_H_
#define EVERGREEN_FIBER_INTERNAL_STACK_POOL_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "evergreen/fiber/internal/guard_registry.h"

namespace evergreen::fiber_internal {

// The system page size.
size_t page_size();

// The size of the guard region below every stack of `stack_size` bytes (a
// multiple of the page size): at least the stack size and 64 KiB (see the
// argument above).
size_t guard_size_for(size_t stack_size);

// Which kernel facilities this thread's pools found to work.
struct KernelSupport {
  bool guard_install = true;     // MADV_GUARD_INSTALL
  bool vectored_madvise = true;  // process_madvise on the calling process
};

// Stacks of one size.
class StackPool {
 public:
  static constexpr std::chrono::nanoseconds kIdleInterval = std::chrono::seconds(1);

  // `idle_interval`: how long a free stack must stay unused before its pages
  // may be returned (tests shorten it).
  StackPool(size_t stack_size, KernelSupport& kernel,
            std::chrono::nanoseconds idle_interval = kIdleInterval);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  // StackPool::allocate()
  //
  // Returns the lowest usable address of a stack of stack_size() bytes; the
  // guard_size() bytes below it are its guard. Maps a new slab when no stack is free (throws
  // std::system_error if the kernel refuses).
  char* allocate();

  // StackPool::release()
  //
  // Takes back a stack from allocate(). Never allocates memory or throws; may
  // return idle stacks' pages to the kernel.
  void release(char* stack) noexcept;

  size_t stack_size() const { return stack_size_; }
  size_t guard_size() const { return guard_size_; }
  size_t capacity() const { return capacity_; }  // stacks in all slabs
  size_t slab_count() const { return slabs_.size(); }
  size_t free_count() const { return free_.size(); }
  // The stack allocate() will return next, or null if a slab must be mapped.
  const char* next_free() const { return free_.empty() ? nullptr : free_.back(); }
  size_t cold_count() const { return cold_; }  // free, pages returned
  size_t warm_limit() const { return warm_limit_; }

 private:
  // Owned through a pointer: the registry links to its record, which must
  // not move when slabs_ grows.
  struct Slab {
    char* address;
    size_t length;
    GuardedSlab guards;
  };

  void add_slab();
  void install_guards(char* slab, size_t slots);
  void populate_tops(char* slab, size_t slots);
  void walk_ahead() noexcept;
  void note_activity() noexcept;
  void trim_if_idle() noexcept;
  void return_pages(size_t begin, size_t end) noexcept;

  const size_t stack_size_;
  const size_t guard_size_;
  const size_t slot_size_;  // guard + stack
  const size_t slots_per_slab_;
  const size_t warm_limit_;
  KernelSupport& kernel_;
  std::vector<std::unique_ptr<Slab>> slabs_;
  const std::chrono::nanoseconds idle_interval_;
  std::vector<char*> free_;  // LIFO: back() is the most recently released
  size_t cold_ = 0;          // free_[0, cold_) have had their pages returned
  // The last walked_ahead_ entries of free_ have had their top page
  // prefetched (see walk_ahead()).
  size_t walked_ahead_ = 0;
  size_t capacity_ = 0;  // stacks in all slabs
  // free_[0, low_water_) have stayed free since interval_start_.
  size_t low_water_ = 0;
  std::chrono::nanoseconds interval_start_{0};
  unsigned operations_since_check_ = 0;
};

// All stack pools of one thread, one per stack size.
class StackPools {
 public:
  StackPools() = default;
  StackPools(const StackPools&) = delete;
  StackPools& operator=(const StackPools&) = delete;

  // A stack of `stack_size` bytes (a multiple of the page size). If `next` is
  // given, it is set to the stack the next allocation of this size will most
  // likely return (null if none is free), so the caller can prefetch it.
  char* allocate(size_t stack_size, const char** next = nullptr);
  void release(char* stack, size_t stack_size) noexcept;

  // The pool for `stack_size`, or null if none was created (for tests and
  // statistics).
  const StackPool* find(size_t stack_size) const;

  // What the kernel was found to support. Tests clear guard_install before
  // the first slab is mapped to exercise the mprotect fallback.
  KernelSupport& kernel_support() { return kernel_; }

 private:
  StackPool& pool_for(size_t stack_size);

  KernelSupport kernel_;
  StackPool* last_ = nullptr;  // most recently used pool: the common case
  std::vector<std::unique_ptr<StackPool>> pools_;
};

}  // namespace evergreen::fiber_internal

#endif  // EVERGREEN_FIBER_INTERNAL_STACK_POOL_H_
