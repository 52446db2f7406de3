// An allocator for the loop's large arrays that are read at random: the timer
// heap's tables, indexed by deadline order or by timer id.
//
// With 100k timers those tables hold a few megabytes, grown by doubling: on
// 4 KiB pages a loop that reaches 100k timers takes about 2000 page faults on
// the way. An array of at least kHugeArrayBytes gets a mapping of its own
// instead, aligned to and sized in 2 MiB steps and marked MADV_HUGEPAGE, so
// that (where the kernel allows transparent huge pages for marked memory, as
// most distributions do by default) growing it costs a few faults, and a few
// TLB entries cover it. Smaller arrays come from operator new, aligned to a
// cache line.
//
// Memory: a huge array rounds up to the next 2 MiB, at most doubling it (it is
// at least 1 MiB). Freed arrays go straight back to the kernel.
#ifndef EVERGREEN_LOOP_INTERNAL_LARGE_ARRAY_ALLOCATOR_H_
#define EVERGREEN_LOOP_INTERNAL_LARGE_ARRAY_ALLOCATOR_H_

#include <cstddef>

#include "evergreen/fiber/internal/cache_line.h"
#include "evergreen/loop/internal/function_allocator.h"

namespace evergreen::internal {

inline constexpr size_t kHugeArrayBytes = size_t{1} << 20;

// At least `bytes` bytes aligned to a cache line (to 2 MiB from
// kHugeArrayBytes on); throws std::bad_alloc when out of memory.
void* allocate_large_array(size_t bytes);
// Frees what allocate_large_array(bytes) returned, given the same `bytes`.
void deallocate_large_array(void* array, size_t bytes) noexcept;

template <class T>
using LargeArrayAllocator =
    FunctionAllocator<T, allocate_large_array, deallocate_large_array, fiber_internal::kCacheLine>;

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_LARGE_ARRAY_ALLOCATOR_H_
