#include "evergreen/loop/internal/large_array_allocator.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

#include "evergreen/fiber/internal/cache_line.h"

namespace evergreen::internal {
namespace {

using fiber_internal::kCacheLine;

constexpr size_t kHugePage = size_t{2} << 20;

size_t huge_length(size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }

}  // namespace

void* allocate_large_array(size_t bytes) {
  if (bytes < kHugeArrayBytes) return ::operator new(bytes, std::align_val_t{kCacheLine});
  const size_t length = huge_length(bytes);
  if (length < bytes || length + kHugePage < length) throw std::bad_alloc();
  // mmap aligns only to 4 KiB: map one huge page more, keep the aligned part.
  void* mapped =
      mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t first = reinterpret_cast<uintptr_t>(mapped);
  const uintptr_t aligned = (first + kHugePage - 1) / kHugePage * kHugePage;
  const size_t head = aligned - first;
  if (head > 0) munmap(mapped, head);
  munmap(reinterpret_cast<void*>(aligned + length), kHugePage - head);  // never empty
  void* array = reinterpret_cast<void*>(aligned);
  madvise(array, length, MADV_HUGEPAGE);  // advisory: without it, small pages
  return array;
}

void deallocate_large_array(void* array, size_t bytes) noexcept {
  if (array == nullptr) return;
  if (bytes < kHugeArrayBytes) {
    ::operator delete (array, std::align_val_t{kCacheLine});
    return;
  }
  munmap(array, huge_length(bytes));
}

}  // namespace evergreen::internal
