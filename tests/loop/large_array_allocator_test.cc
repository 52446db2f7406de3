#include "evergreen/loop/internal/large_array_allocator.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace evergreen::internal {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

uintptr_t address_of(const void* pointer) { return reinterpret_cast<uintptr_t>(pointer); }

bool is_mapped(const void* pointer) {
  const uintptr_t page = address_of(pointer) & ~uintptr_t{4095};
  unsigned char resident = 0;
  return mincore(reinterpret_cast<void*>(page), 4096, &resident) == 0;
}

// The VmFlags of the mapping that holds `pointer`, from /proc/self/smaps.
std::string vm_flags_of(const void* pointer) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &start, &end) == 2) {
      inside = start <= address_of(pointer) && address_of(pointer) < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST(LargeArrayAllocatorTest, SmallArraysAreCacheLineAligned) {
  for (size_t bytes : {size_t{1}, size_t{100}, size_t{4096}, kHugeArrayBytes - 1}) {
    void* array = allocate_large_array(bytes);
    EXPECT_EQ(address_of(array) % 64, 0u) << bytes;
    static_cast<char*>(array)[bytes - 1] = 1;
    deallocate_large_array(array, bytes);
  }
}

TEST(LargeArrayAllocatorTest, LargeArraysAreHugePageAlignedAndMarked) {
  if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0) {
    GTEST_SKIP() << "this kernel has no transparent huge pages";
  }
  for (size_t bytes : {kHugeArrayBytes, kHugePage, kHugePage + 1, 3 * kHugePage + 12345}) {
    char* array = static_cast<char*>(allocate_large_array(bytes));
    EXPECT_EQ(address_of(array) % kHugePage, 0u) << bytes;
    array[0] = 1;
    array[bytes - 1] = 2;
    const std::string flags = vm_flags_of(array);
    EXPECT_NE(flags.find(" hg"), std::string::npos) << bytes << ": " << flags;
    deallocate_large_array(array, bytes);
  }
}

TEST(LargeArrayAllocatorTest, FreedLargeArraysGoBackToTheKernel) {
  const size_t bytes = 2 * kHugePage + 100;
  char* array = static_cast<char*>(allocate_large_array(bytes));
  array[0] = 1;
  array[bytes - 1] = 1;
  ASSERT_TRUE(is_mapped(array));
  ASSERT_TRUE(is_mapped(array + bytes - 1));
  deallocate_large_array(array, bytes);
  EXPECT_FALSE(is_mapped(array));
  EXPECT_FALSE(is_mapped(array + bytes - 1));
  EXPECT_EQ(errno, ENOMEM);
}

TEST(LargeArrayAllocatorTest, VectorsKeepTheirContentsAcrossTheThreshold) {
  std::vector<uint64_t, LargeArrayAllocator<uint64_t>> values;
  const size_t count = 3 * kHugeArrayBytes / sizeof(uint64_t);
  for (size_t i = 0; i < count; ++i) values.push_back(i * 7);
  ASSERT_GE(values.capacity() * sizeof(uint64_t), kHugeArrayBytes);
  EXPECT_EQ(address_of(values.data()) % kHugePage, 0u);
  for (size_t i = 0; i < count; ++i) ASSERT_EQ(values[i], i * 7) << i;
}

TEST(LargeArrayAllocatorTest, AnImpossibleCountThrows) {
  LargeArrayAllocator<uint64_t> allocator;
  EXPECT_THROW(allocator.allocate(SIZE_MAX / sizeof(uint64_t) + 1), std::bad_array_new_length);
  EXPECT_THROW(allocator.allocate(SIZE_MAX / sizeof(uint64_t) - 16), std::bad_alloc);
}

}  // namespace
}  // namespace evergreen::internal
