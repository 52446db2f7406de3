// A standard allocator whose memory comes from a pair of functions, so that
// each of the loop's memory policies (large_array_allocator.h,
// task_memory.h) is just those two functions. `Alignment` is what `Allocate`
// guarantees; element types must need no more.
#ifndef EVERGREEN_LOOP_INTERNAL_FUNCTION_ALLOCATOR_H_
#define EVERGREEN_LOOP_INTERNAL_FUNCTION_ALLOCATOR_H_

#include <cstddef>
#include <cstdint>
#include <new>

namespace evergreen::internal {

template <class T, void* (*Allocate)(size_t), void (*Deallocate)(void*, size_t) noexcept,
          size_t Alignment>
struct FunctionAllocator {
  static_assert(alignof(T) <= Alignment);
  using value_type = T;
  // Spelled out: the standard's default rebinding only handles type parameters.
  template <class U>
  struct rebind {
    using other = FunctionAllocator<U, Allocate, Deallocate, Alignment>;
  };
  FunctionAllocator() = default;
  template <class U>
  FunctionAllocator(const FunctionAllocator<U, Allocate, Deallocate, Alignment>&) {}

  T* allocate(size_t count) {
    if (count > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(Allocate(count * sizeof(T)));
  }
  void deallocate(T* block, size_t count) noexcept { Deallocate(block, count * sizeof(T)); }
  friend bool operator==(const FunctionAllocator&, const FunctionAllocator&) { return true; }
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_FUNCTION_ALLOCATOR_H_
