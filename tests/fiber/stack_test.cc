// Fiber stacks: sizes, pooling and reuse, many live fibers, thread exit.
#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evergreen/fiber/fiber.h"
#include "gtest/gtest.h"

namespace evergreen {
namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif
#else
constexpr bool kThreadSanitizer = false;
#endif

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

constexpr size_t kKiB = 1024;

int count_mappings() {
  std::ifstream maps("/proc/self/maps");
  int lines = 0;
  for (std::string line; std::getline(maps, line);) ++lines;
  return lines;
}

// True if `address` lies in some mapping of this process.
bool is_mapped(const void* address) {
  std::ifstream maps("/proc/self/maps");
  const auto value = reinterpret_cast<uintptr_t>(address);
  for (std::string line; std::getline(maps, line);) {
    uintptr_t low = 0;
    uintptr_t high = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &low, &high) == 2 && value >= low && value < high) {
      return true;
    }
  }
  return false;
}

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0;
  int64_t resident = 0;
  statm >> size >> resident;
  return resident * 4096;
}

// The address of a local variable of the running fiber: where its stack is.
__attribute__((noinline)) const char* stack_marker() {
  char marker = 0;
  const char* address = &marker;
  asm volatile("" : "+r"(address));  // the address escapes; the frame is real
  return address;
}

// Stacks are at least a page plus 16 KiB apart: markers closer than that
// are on the same stack.
bool same_stack(const char* a, const char* b) {
  return a != nullptr && b != nullptr && (a > b ? a - b : b - a) < static_cast<ptrdiff_t>(8 * kKiB);
}

// Fibers made by this function all run the same code, so the same stack
// gives the same marker address.
std::unique_ptr<Fiber> marker_fiber(const char** out, size_t stack_size = 0) {
  return std::make_unique<Fiber>([out] { *out = stack_marker(); }, stack_size);
}

// --- Sizes ----------------------------------------------------------------------------

TEST(FiberStackTest, DefaultStackSizeIs64KiB) {
  EXPECT_EQ(default_stack_size(), 64 * kKiB);
  Fiber fiber([] {});
  EXPECT_EQ(fiber.stack_size(), 64 * kKiB);
}

TEST(FiberStackTest, SetDefaultStackSizeRoundsToPagesAndValidates) {
  const size_t original = default_stack_size();
  EXPECT_THROW(set_default_stack_size(0), std::invalid_argument);
  EXPECT_THROW(set_default_stack_size(4 * kKiB), std::invalid_argument);
  EXPECT_THROW(set_default_stack_size(size_t{2} << 30), std::invalid_argument);
  EXPECT_EQ(default_stack_size(), original);

  set_default_stack_size(100 * kKiB + 1);
  EXPECT_EQ(default_stack_size(), 104 * kKiB);  // rounded up to 4 KiB pages
  Fiber fiber([] {});
  EXPECT_EQ(fiber.stack_size(), 104 * kKiB);
  set_default_stack_size(original);
  EXPECT_EQ(fiber.stack_size(), 104 * kKiB);  // fixed at construction
  EXPECT_EQ(Fiber([] {}).stack_size(), original);
}

TEST(FiberStackTest, PerFiberStackSizeIsValidatedAndRounded) {
  EXPECT_THROW(Fiber([] {}, 1000), std::invalid_argument);
  EXPECT_EQ(Fiber([] {}, 20 * kKiB + 5).stack_size(), 24 * kKiB);
  try {
    Fiber([] {}, 1000);
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("1000"), std::string::npos) << error.what();
  }
}

TEST(FiberStackTest, OneMebibyteStackHoldsHalfAMebibyteOfLocals) {
  bool done = false;
  Fiber fiber(
      [&] {
        volatile char big[512 * kKiB];
        for (size_t i = 0; i < sizeof big; i += 4096) big[i] = static_cast<char>(i >> 12);
        big[sizeof big - 1] = 1;
        int sum = 0;
        for (size_t i = 0; i < sizeof big; i += 4096) sum += big[i];
        done = sum != 0 && big[sizeof big - 1] == 1;
      },
      1024 * kKiB);
  fiber.switch_to();
  EXPECT_TRUE(done);
}

TEST(FiberStackTest, StackIsInsideAMapping) {
  const char* marker = nullptr;
  auto fiber = marker_fiber(&marker);
  fiber->switch_to();
  EXPECT_TRUE(is_mapped(marker));
}

// --- Pooling --------------------------------------------------------------------------

TEST(FiberStackTest, StackOfAnEndedFiberIsReusedBeforeItIsDestroyed) {
  const char* first = nullptr;
  const char* second = nullptr;
  auto a = marker_fiber(&first);
  a->switch_to();  // a ends; a is not destroyed
  auto b = marker_fiber(&second);
  b->switch_to();
  EXPECT_TRUE(same_stack(first, second));
}

TEST(FiberStackTest, StackIsTakenAtTheFirstSwitchNotAtConstruction) {
  const char* constructed_first = nullptr;
  const char* ran_first = nullptr;
  auto late = marker_fiber(&constructed_first);  // constructed, not started
  auto early = marker_fiber(&ran_first);
  early->switch_to();  // takes a stack, ends, gives it back
  late->switch_to();   // takes that same stack now
  EXPECT_TRUE(same_stack(constructed_first, ran_first));
}

TEST(FiberStackTest, MostRecentlyReleasedStackIsReusedFirst) {
  Fiber* main = Fiber::current();
  const char* a_stack = nullptr;
  const char* b_stack = nullptr;
  Fiber a([&] {
    a_stack = stack_marker();
    main->switch_to();
  });
  Fiber b([&] {
    b_stack = stack_marker();
    main->switch_to();
  });
  a.switch_to();
  b.switch_to();
  ASSERT_NE(a_stack, nullptr);
  ASSERT_NE(b_stack, nullptr);
  EXPECT_FALSE(same_stack(a_stack, b_stack));  // two live fibers: two stacks
  // b ends first, then a: a's stack is now on top of the free list.
  b.switch_to();
  a.switch_to();
  const char* reused = nullptr;
  const char* reused_next = nullptr;
  Fiber c([&] {
    reused = stack_marker();
    main->switch_to();
  });
  Fiber d([&] {
    reused_next = stack_marker();
    main->switch_to();
  });
  c.switch_to();
  d.switch_to();
  EXPECT_TRUE(same_stack(reused, a_stack));
  EXPECT_TRUE(same_stack(reused_next, b_stack));
  c.switch_to();
  d.switch_to();
}

TEST(FiberStackTest, DifferentSizesUseDifferentStacks) {
  const char* small = nullptr;
  const char* large = nullptr;
  auto a = marker_fiber(&small, 64 * kKiB);
  a->switch_to();
  auto b = marker_fiber(&large, 256 * kKiB);
  b->switch_to();
  EXPECT_FALSE(same_stack(small, large));
}

// --- Many live fibers -----------------------------------------------------------------

TEST(FiberStackTest, HundredThousandLiveFibersFitInFewMappings) {
  // TSan gives every fiber a shadow thread state of its own (about 850 KiB
  // and a few mappings each), so under TSan this checks far fewer fibers and
  // not the mapping count.
  const int live = kThreadSanitizer ? 1000 : 100000;
  Fiber* main = Fiber::current();
  const int mappings_before = count_mappings();
  const int64_t resident_before = resident_bytes();
  int started = 0;
  int finished = 0;
  std::vector<std::unique_ptr<Fiber>> fibers;
  fibers.reserve(live);
  for (int i = 0; i < live; ++i) {
    fibers.push_back(std::make_unique<Fiber>([&] {
      ++started;
      main->switch_to();
      ++finished;
    }));
    fibers.back()->switch_to();
  }
  EXPECT_EQ(started, live);
  const int mappings_during = count_mappings();
  const int64_t resident_per_fiber = (resident_bytes() - resident_before) / live;
  RecordProperty("mappings_before", mappings_before);
  RecordProperty("mappings_with_live_fibers", mappings_during);
  RecordProperty("resident_bytes_per_live_fiber", static_cast<int>(resident_per_fiber));
  std::printf("%d live fibers: /proc/self/maps %d -> %d lines, %lld resident bytes per fiber\n",
              live, mappings_before, mappings_during, static_cast<long long>(resident_per_fiber));
  // A slab of 64 stacks and their guards is one mapping (the kernel even
  // merges neighbouring slabs); allow for the allocator's own mappings.
  // Guards that split mappings would need two per fiber.
  if (!kThreadSanitizer) {
    EXPECT_LT(mappings_during - mappings_before, live / 32 + 64);
    EXPECT_LT(mappings_during, 20000);
  }
  if (!kAddressSanitizer && !kThreadSanitizer) {
    EXPECT_LT(resident_per_fiber, 16 * static_cast<int64_t>(kKiB));
  }
  for (auto& fiber : fibers) fiber->switch_to();
  EXPECT_EQ(finished, live);
  fibers.clear();
}

// --- Threads ----------------------------------------------------------------------------

TEST(FiberStackTest, FibersOnSeveralThreadsRunIndependently) {
  constexpr int kThreads = 2;
  constexpr int kRounds = 10000;
  std::vector<int> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &results] {
      Fiber* main = Fiber::current();
      int count = 0;
      Fiber fiber([&] {
        for (;;) {
          ++count;
          main->switch_to();
        }
      });
      for (int i = 0; i < kRounds; ++i) fiber.switch_to();
      results[t] = count;
      // The fiber is suspended forever: end it so it may be destroyed.
      try {
        fiber.throw_into(std::make_exception_ptr(std::runtime_error("stop")));
      } catch (const std::runtime_error&) {
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(results[t], kRounds);
}

TEST(FiberStackTest, ThreadExitUnmapsItsStacks) {
  const char* marker = nullptr;
  std::thread thread([&] {
    std::vector<std::unique_ptr<Fiber>> fibers;
    for (int i = 0; i < 200; ++i) {
      fibers.push_back(marker_fiber(&marker));
      fibers.back()->switch_to();
    }
    EXPECT_TRUE(is_mapped(marker));
  });
  thread.join();
  ASSERT_NE(marker, nullptr);
  EXPECT_FALSE(is_mapped(marker));
}

}  // namespace
}  // namespace evergreen
