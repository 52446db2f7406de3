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

TEST(StackPoolTest, GuardIsAtLeastTheStackSizeAnd64KiB) {
  EXPECT_EQ(guard_size_for(16 * kKiB), 64 * kKiB);
  EXPECT_EQ(guard_size_for(64 * kKiB), 64 * kKiB);
  EXPECT_EQ(guard_size_for(1024 * kKiB), 1024 * kKiB);
  KernelSupport kernel;
  StackPool pool(128 * kKiB, kernel);
  EXPECT_EQ(pool.guard_size(), 128 * kKiB);
}

// Both ways of installing guards: MADV_GUARD_INSTALL where the kernel has it
// (6.13+), and the mprotect(PROT_NONE) fallback, forced here.
class StackPoolGuardDeathTest : public testing::TestWithParam<bool> {
 protected:
  StackPoolGuardDeathTest() { kernel_.guard_install = GetParam(); }
  KernelSupport kernel_;
};

TEST_P(StackPoolGuardDeathTest, WholeRegionBelowAStackIsAGuard) {
  StackPool pool(64 * kKiB, kernel_);
  char* stack = pool.allocate();
  if (GetParam() && !kernel_.guard_install) GTEST_SKIP() << "kernel without MADV_GUARD_INSTALL";
  volatile char* guard = stack - pool.guard_size();
  EXPECT_DEATH(guard[0] = 1, "");                      // its lowest byte
  EXPECT_DEATH(guard[pool.guard_size() / 2] = 1, "");  // its middle
  EXPECT_DEATH(guard[pool.guard_size() - 1] = 1, "");  // right below the stack
  // Below the guard: the top of the neighbouring stack, which is usable.
  char* below = pool.allocate();
  EXPECT_EQ(below + 64 * kKiB, stack - pool.guard_size());
  below[64 * kKiB - 1] = 1;
  pool.release(below);
  pool.release(stack);
}

TEST_P(StackPoolGuardDeathTest, GuardsSurviveReturningIdleStacksPages) {
  // An idle interval of zero: releasing more than warm_limit() stacks returns
  // the pages of the oldest ones (MADV_DONTNEED over runs of neighbours,
  // guards included), which must leave their guards in place.
  StackPool pool(1024 * kKiB, kernel_, std::chrono::nanoseconds(0));
  std::vector<char*> stacks;
  for (size_t i = 0; i < 2 * pool.warm_limit(); ++i) stacks.push_back(pool.allocate());
  if (GetParam() && !kernel_.guard_install) GTEST_SKIP() << "kernel without MADV_GUARD_INSTALL";
  for (char* stack : stacks) pool.release(stack);
  ASSERT_GT(pool.cold_count(), 0u);
  volatile char* guard = stacks.front() - 1;  // released first: cold
  EXPECT_DEATH(*guard = 1, "");
}

INSTANTIATE_TEST_SUITE_P(GuardInstallAndMprotect, StackPoolGuardDeathTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "GuardInstall" : "Mprotect";
                         });

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
    EXPECT_EQ(mapping_of(stack - 1), mapping);                  // the guard too,
    EXPECT_EQ(mapping_of(stack - pool.guard_size()), mapping);  // all of it
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
