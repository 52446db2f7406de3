// A fiber's guard region catches what one guard page could not: frames
// larger than a page, in code built with or without stack-clash probing, and
// stray writes into another fiber's guard. Each is reported naming the fiber
// that owns the stack, and the neighbouring stack is left intact.
//
// Every test here is a death test whose statement starts its own fibers, so
// each runs in a child process whose stack pools are fresh: the first fiber
// of a size maps a new slab, and the pool hands its slots out from the top
// down, so the second fiber's stack lies right below the first one's guard.
// The tests check that layout before relying on it.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "evergreen/fiber/fiber.h"
#include "evergreen/fiber/internal/stack_pool.h"
#include "evergreen/fiber/internal/thread_state.h"
#include "gtest/gtest.h"
#include "tests/fiber/large_frames.h"

namespace evergreen {
namespace {

using fiber_internal::guard_size_for;

constexpr size_t kKiB = 1024;

// The lowest address of the stack that the next fiber of `stack_size`
// started on this thread will get (null if a slab must be mapped first).
const char* next_stack(size_t stack_size) {
  const fiber_internal::StackPool* pool =
      fiber_internal::ThreadState::get().pools().find(stack_size);
  return pool != nullptr ? pool->next_free() : nullptr;
}

// Maps this thread's slab of `stack_size` stacks (a fiber that starts and
// ends), and returns the stack the next fiber will get.
const char* map_slab(size_t stack_size) {
  Fiber([] {}, stack_size).switch_to();
  return next_stack(stack_size);
}

// True if `address` lies in a mapping with no access at all ("---p" in
// /proc/self/maps): what an mprotect(PROT_NONE) guard is.
bool is_inaccessible_mapping(const void* address) {
  std::ifstream maps("/proc/self/maps");
  const auto value = reinterpret_cast<uintptr_t>(address);
  for (std::string line; std::getline(maps, line);) {
    uintptr_t low = 0;
    uintptr_t high = 0;
    char permissions[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &low, &high, permissions) == 3 && value >= low &&
        value < high) {
      return std::string(permissions) == "---p";
    }
  }
  return false;
}

void write_to_stderr(const char* text) {
  long ignored = syscall(SYS_write, STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

// --- The neighbour -------------------------------------------------------------------
//
// The fiber whose stack lies right below the guard under test fills the top
// of its stack with a pattern and stays suspended. The overflow report ends
// with abort(); a SIGABRT handler then checks the pattern and writes
// "neighbour intact" (or "neighbour corrupted") before exiting, so a death
// test's regex can ask for the report and the intact neighbour together.

constexpr size_t kPatternBytes = 40 * kKiB;
constexpr char kPattern = static_cast<char>(0xa5);
const volatile char* neighbour_pattern = nullptr;

bool neighbour_intact() {
  if (neighbour_pattern == nullptr) return false;
  for (size_t i = 0; i < kPatternBytes; ++i) {
    if (neighbour_pattern[i] != kPattern) return false;
  }
  return true;
}

void report_neighbour(int) {
  write_to_stderr(neighbour_intact() ? "neighbour intact\n" : "neighbour corrupted\n");
  _exit(3);
}

void report_neighbour_on_abort() {
  struct sigaction action {};
  action.sa_handler = report_neighbour;
  action.sa_flags = SA_ONSTACK;  // aborted from the fault handler, on the alternate stack
  sigemptyset(&action.sa_mask);
  sigaction(SIGABRT, &action, nullptr);
}

// Runs `body` in a fiber named `name` with a stack of `stack_size` bytes,
// while the fiber whose stack lies right below its guard holds a pattern.
// Returns only if `body` did not fault; then the process exits with status 0
// (which a death test counts as a failure) after saying whether the
// neighbour survived.
void run_above_a_neighbour(size_t stack_size, const char* name,
                           void (*body)(const char* stack_low)) {
  Fiber* main = Fiber::current();
  const char* stack = map_slab(stack_size);
  Fiber upper(
      [&] {
        main->switch_to();
        body(stack);
      },
      stack_size);
  upper.set_name(name);
  upper.switch_to();  // takes `stack` and waits
  const char* below = next_stack(stack_size);
  if (below == nullptr || below + stack_size + guard_size_for(stack_size) != stack) {
    write_to_stderr("test setup: the neighbour's stack is not right below the guard\n");
    _exit(0);
  }
  Fiber lower(
      [&] {
        char pattern[kPatternBytes];
        std::memset(pattern, kPattern, sizeof pattern);
        neighbour_pattern = pattern;
        asm volatile("" : : "r"(pattern) : "memory");
        main->switch_to();  // never resumed
      },
      stack_size);
  lower.set_name("neighbour");
  lower.switch_to();
  report_neighbour_on_abort();
  upper.switch_to();  // runs body
  write_to_stderr("no fault; ");
  write_to_stderr(neighbour_intact() ? "neighbour intact\n" : "neighbour corrupted\n");
  _exit(0);
}

// --- Frames larger than a page -------------------------------------------------------

TEST(FiberGuardRegionDeathTest, EightKiBBufferSixtyKiBDeepFaultsInTheGuard) {
  // The buffer's low end lies about 6 KiB below the stack: past a one-page
  // guard, into the neighbour's top, in code built without probing.
  EXPECT_DEATH(run_above_a_neighbour(64 * kKiB, "deep-task",
                                     [](const char* stack_low) {
                                       testing::descend_to(stack_low, 2 * kKiB,
                                                           testing::write_low_end_of_8_kib_buffer);
                                     }),
               "evergreen: stack overflow in fiber 'deep-task' \\(stack size 65536 bytes\\)\n"
               "neighbour intact");
}

TEST(FiberGuardRegionDeathTest, EightyKiBBufferNearTheTopFaultsInTheGuard) {
  // The frame is larger than the stack; from near the top, its low 4 KiB lie
  // 14 to 18 KiB below the stack.
  EXPECT_DEATH(
      run_above_a_neighbour(64 * kKiB, "big-buffer",
                            [](const char*) { testing::write_low_4_kib_of_80_kib_buffer(); }),
      "evergreen: stack overflow in fiber 'big-buffer' \\(stack size 65536 bytes\\)\n"
      "neighbour intact");
}

TEST(FiberGuardRegionDeathTest, EightyKiBBufferThatFitsTheStackFaultsInTheGuardAtAnyDepth) {
  // 128 KiB stack, 80 KiB deep: the frame would fit in the stack, so the
  // guard (as large as the stack) catches it wherever it starts; here its
  // low end is 32 KiB below the stack.
  EXPECT_DEATH(run_above_a_neighbour(128 * kKiB, "deep-big-buffer",
                                     [](const char* stack_low) {
                                       testing::descend_to(
                                           stack_low, 48 * kKiB,
                                           testing::write_low_4_kib_of_80_kib_buffer);
                                     }),
               "evergreen: stack overflow in fiber 'deep-big-buffer' \\(stack size 131072 "
               "bytes\\)\nneighbour intact");
}

// Built with stack-clash probing like all of evergreen's code: a frame
// larger than the whole stack and its guard is touched page by page as it is
// allocated, so the first touch below the stack lands in the guard.
__attribute__((noinline)) void write_low_end_of_256_kib_buffer() {
  char buffer[256 * kKiB];
  volatile char* bytes = buffer;
  for (size_t i = 0; i < 256; ++i) bytes[i] = 1;
  asm volatile("" : : "r"(buffer) : "memory");
}

TEST(FiberGuardRegionDeathTest, ProbedFrameLargerThanStackAndGuardFaultsInTheGuard) {
  EXPECT_DEATH(run_above_a_neighbour(64 * kKiB, "huge-frame",
                                     [](const char*) { write_low_end_of_256_kib_buffer(); }),
               "evergreen: stack overflow in fiber 'huge-frame' \\(stack size 65536 bytes\\)\n"
               "neighbour intact");
}

TEST(FiberGuardRegionDeathTest, MprotectGuardsCatchTheSameFrames) {
  // Kernels before 6.13 have no MADV_GUARD_INSTALL; the pool falls back to
  // mprotect(PROT_NONE) guards, forced here before the first slab is mapped.
  EXPECT_DEATH(
      {
        fiber_internal::ThreadState::get().pools().kernel_support().guard_install = false;
        if (!is_inaccessible_mapping(map_slab(64 * kKiB) - 1)) {
          write_to_stderr("test setup: the guard is not an mprotect(PROT_NONE) mapping\n");
          _exit(0);
        }
        run_above_a_neighbour(64 * kKiB, "big-buffer",
                              [](const char*) { testing::write_low_4_kib_of_80_kib_buffer(); });
      },
      "evergreen: stack overflow in fiber 'big-buffer' \\(stack size 65536 bytes\\)\n"
      "neighbour intact");
}

// --- Faults in a guard of a fiber that is not running --------------------------------

TEST(FiberGuardRegionDeathTest, FaultInASuspendedFibersGuardNamesItsOwnerAndTheRunningFiber) {
  EXPECT_DEATH(
      {
        Fiber* main = Fiber::current();
        const char* stack = map_slab(64 * kKiB);
        Fiber victim([&] { main->switch_to(); }, 64 * kKiB);
        victim.set_name("victim");
        victim.switch_to();  // takes `stack` and waits
        Fiber writer(
            [&] {
              // Anywhere in the victim's guard: here its lowest byte, which
              // adjoins the writer's own stack.
              volatile char* guard = const_cast<char*>(stack) - guard_size_for(64 * kKiB);
              *guard = 1;
            },
            64 * kKiB);
        writer.set_name("writer");
        writer.switch_to();
        write_to_stderr("no fault\n");
        _exit(0);
      },
      "evergreen: stack overflow in fiber 'victim' \\(stack size 65536 bytes\\): its guard "
      "region was hit while fiber 'writer' was running\n");
}

TEST(FiberGuardRegionDeathTest, FaultInTheGuardOfAnUnusedStackSaysSo) {
  EXPECT_DEATH(
      {
        const char* stack = map_slab(64 * kKiB);
        volatile char* guard = const_cast<char*>(stack) - 1;
        *guard = 1;
        write_to_stderr("no fault\n");
        _exit(0);
      },
      "evergreen: stack overflow into the guard of an unused fiber stack \\(stack size 65536 "
      "bytes\\): hit while fiber 'main' was running\n");
}

}  // namespace
}  // namespace evergreen
