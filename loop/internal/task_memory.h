// Memory for the tasks spawn() creates, recycled per thread.
//
// Each spawn() makes one block holding the Task and its shared_ptr control
// block, always of the same size, and a server's tasks come and go by the
// thousand. glibc keeps only 7 freed blocks of a size per thread, so when
// thousands of tasks end together most of them went through its general
// free and allocation paths: measured here, about a tenth of the time to
// spawn, run and join a task. TaskAllocator instead keeps up to
// kMaxCachedTaskBytes of freed blocks of that one size per thread; a block
// freed on another thread goes to that thread's cache, and a thread's cache
// is freed when the thread exits.
//
// Under AddressSanitizer or ThreadSanitizer the cache is off, so that they
// still see every allocation and free.
#ifndef EVERGREEN_LOOP_INTERNAL_TASK_MEMORY_H_
#define EVERGREEN_LOOP_INTERNAL_TASK_MEMORY_H_

#include <cstddef>

#include "evergreen/loop/internal/function_allocator.h"

namespace evergreen::internal {

inline constexpr size_t kMaxCachedTaskBytes = size_t{8} << 20;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kTaskBlockCache = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kTaskBlockCache = false;
#else
inline constexpr bool kTaskBlockCache = true;
#endif
#else
inline constexpr bool kTaskBlockCache = true;
#endif

// A block of `bytes` (aligned for any ordinary type), from this thread's cache
// when it holds one of that size; throws std::bad_alloc.
void* allocate_task_block(size_t bytes);
// Gives back a block from allocate_task_block(bytes).
void deallocate_task_block(void* block, size_t bytes) noexcept;
// Blocks this thread's cache holds now (for tests; always 0 without the
// cache).
size_t cached_task_blocks();

template <class T>
using TaskAllocator = FunctionAllocator<T, allocate_task_block, deallocate_task_block,
                                        __STDCPP_DEFAULT_NEW_ALIGNMENT__>;

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_TASK_MEMORY_H_
