// The stack pool behind fibers (internal): guard pages, LIFO reuse, one
// mapping per slab, and returning idle stacks' memory.
#include "evergreen/fiber/internal/stack_pool.h"

#include <sys/mman.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace evergreen::fiber_internal {
namespace {

constexpr size_t kKiB = 1024;

// The /proc/self/maps line whose range contains `address` (empty if none).
std::string mapping_of(const void* address) {
  std::ifstream maps("/proc/self/maps");
  const auto value = reinterpret_cast<uintptr_t>(address);
  for (std::string line; std::getline(maps, line);) {
    uintptr_t low = 0;
    uintptr_t high = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &low, &high) == 2 && value >= low && value < high) {
      return line;
    }
  }
  return "";
}

bool is_resident(const char* page) {
  unsigned char resident = 0;
  return mincore(const_cast<char*>(page), page_size(), &resident) == 0 && (resident & 1) != 0;
}

TEST(StackPoolTest, StacksAreWritableEndToEnd) {
  KernelSupport kernel;
  StackPool pool(64 * kKiB, kernel);
  char* stack = pool.allocate();
  stack[0] = 1;
  stack[64 * kKiB - 1] = 2;
  EXPECT_EQ(stack[0] + stack[64 * kKiB - 1], 3);
  pool.release(stack);
}

TEST(StackPoolDeathTest, PageBelowAStackIsAGuard) {
  KernelSupport kernel;
  StackPool pool(64 * kKiB, kernel);
  char* stack = pool.allocate();
  volatile char* guard = stack - 1;
  EXPECT_DEATH(*guard = 1, "");
  pool.release(stack);
}

TEST(StackPoolTest, ReuseIsLastInFirstOut) {
  KernelSupport kernel;
  StackPool pool(64 * kKiB, kernel);
  char* a = pool.allocate();
  char* b = pool.allocate();
  EXPECT_NE(a, b);
  pool.release(a);
  pool.release(b);
  EXPECT_EQ(pool.allocate(), b);
  EXPECT_EQ(pool.allocate(), a);
  pool.release(a);
  pool.release(b);
}

TEST(StackPoolTest, SlabOfStacksAndGuardsIsOneMapping) {
  KernelSupport kernel;
  StackPool pool(64 * kKiB, kernel);
  std::vector<char*> stacks;
  for (int i = 0; i < 64; ++i) stacks.push_back(pool.allocate());
  if (!kernel.guard_install) GTEST_SKIP() << "kernel without MADV_GUARD_INSTALL (< 6.13)";
  EXPECT_EQ(pool.slab_count(), 1u);
  const std::string mapping = mapping_of(stacks.front());
  ASSERT_FALSE(mapping.empty());
  for (char* stack : stacks) {
    EXPECT_EQ(mapping_of(stack), mapping);
    EXPECT_EQ(mapping_of(stack - 1), mapping);  // the guard page too
  }
  for (char* stack : stacks) pool.release(stack);
}

TEST(StackPoolTest, IdleStacksBeyondTheWarmLimitReturnTheirPages) {
  KernelSupport kernel;
  // 1 MiB stacks: 256 stay warm. An idle interval of zero makes every check
  // count as a full interval.
  StackPool pool(1024 * kKiB, kernel, std::chrono::nanoseconds(0));
  ASSERT_EQ(pool.warm_limit(), 256u);
  std::vector<char*> stacks;
  for (int i = 0; i < 512; ++i) {
    stacks.push_back(pool.allocate());
    stacks.back()[1024 * kKiB - 1] = 1;  // use the top page
  }
  for (char* stack : stacks) pool.release(stack);
  EXPECT_EQ(pool.cold_count(), 256u);
  int resident = 0;
  for (char* stack : stacks) resident += is_resident(stack + 1024 * kKiB - page_size());
  EXPECT_EQ(resident, 256);
  // The 256 released last (the warm ones) are the ones still resident.
  for (size_t i = 256; i < stacks.size(); ++i) {
    EXPECT_TRUE(is_resident(stacks[i] + 1024 * kKiB - page_size()));
  }
  // Cold stacks are still reusable; no new slab is needed.
  const size_t capacity = pool.capacity();
  for (char*& stack : stacks) stack = pool.allocate();
  EXPECT_EQ(pool.capacity(), capacity);
  EXPECT_EQ(pool.cold_count(), 0u);
  for (char* stack : stacks) stack[0] = 1;
  for (char* stack : stacks) pool.release(stack);
}

TEST(StackPoolTest, StacksReusedWithinTheIdleIntervalStayWarm) {
  KernelSupport kernel;
  StackPool pool(1024 * kKiB, kernel);  // default interval: about a second
  std::vector<char*> stacks(512);
  for (int round = 0; round < 5; ++round) {
    for (char*& stack : stacks) {
      stack = pool.allocate();
      stack[1024 * kKiB - 1] = 1;
    }
    for (char* stack : stacks) pool.release(stack);
  }
  EXPECT_EQ(pool.cold_count(), 0u);
  EXPECT_EQ(pool.capacity(), 512u);
}

}  // namespace
}  // namespace evergreen::fiber_internal
