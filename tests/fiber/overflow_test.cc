// A stack overflow ends the process with a message naming the fiber.
#include <csignal>
#include <cstdint>
#include <string>

#include "evergreen/fiber/fiber.h"
#include "evergreen/fiber/internal/fiber_access.h"
#include "gtest/gtest.h"

namespace evergreen {
namespace {

using fiber_internal::FiberAccess;

// Recursion deep enough to overflow any fiber stack. The bound is read at run
// time so the compiler cannot prove the recursion infinite (or remove it),
// and the volatile array makes each frame really use stack.
volatile int recursion_limit = 1 << 30;

__attribute__((noinline)) int recurse(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (depth >= recursion_limit) return frame[0];
  return recurse(depth + 1) + frame[0];
}

// Under AddressSanitizer, ASan owns SIGSEGV handling. With its default
// options it lets our handler run first (it chains to ASan's for other
// faults), so our message appears; with allow_user_segv_handler=0 ASan's own
// report ends the process instead, which is accepted there.
#if defined(__SANITIZE_ADDRESS__)
#define EVERGREEN_OR_ASAN_REPORT(message) "(" message ")|AddressSanitizer: (stack-overflow|SEGV)"
#else
#define EVERGREEN_OR_ASAN_REPORT(message) message
#endif

TEST(FiberOverflowDeathTest, OverflowIsFatalAndNamesTheFiber) {
  EXPECT_DEATH(
      {
        Fiber fiber([] { recurse(0); }, 64 * 1024);
        fiber.set_name("worker-3");
        fiber.switch_to();
      },
      EVERGREEN_OR_ASAN_REPORT(
          "evergreen: stack overflow in fiber 'worker-3' \\(stack size 65536 bytes\\)"));
}

TEST(FiberOverflowDeathTest, AUsedNameNamesTheFiber) {
  EXPECT_DEATH(
      {
        const std::string name = "task-17";
        Fiber fiber([] { recurse(0); }, 64 * 1024);
        FiberAccess::use_name(fiber, name);
        fiber.switch_to();
      },
      EVERGREEN_OR_ASAN_REPORT(
          "evergreen: stack overflow in fiber 'task-17' \\(stack size 65536 bytes\\)"));
}

TEST(FiberOverflowDeathTest, ANumberedNameNeverReadNamesTheFiber) {
  // The task's string is still empty (its "task-N" is formatted only when
  // read); the handler formats the number itself, without allocating.
  EXPECT_DEATH(
      {
        const std::string unformatted;
        Fiber fiber([] { recurse(0); }, 64 * 1024);
        FiberAccess::use_name(fiber, unformatted, 18446744073709551615u);
        fiber.switch_to();
      },
      EVERGREEN_OR_ASAN_REPORT("evergreen: stack overflow in fiber 'task-18446744073709551615' "
                               "\\(stack size 65536 bytes\\)"));
}

TEST(FiberOverflowDeathTest, UnnamedFiberIsNamedByAddress) {
  EXPECT_DEATH(
      {
        Fiber fiber([] { recurse(0); }, 32 * 1024);
        fiber.switch_to();
      },
      EVERGREEN_OR_ASAN_REPORT(
          "stack overflow in fiber '<unnamed 0x[0-9a-f]+>' \\(stack size 32768 bytes\\)"));
}

TEST(FiberOverflowDeathTest, OtherFaultsAreNotReportedAsOverflows) {
  // A fault outside any guard page keeps its usual outcome: death by SIGSEGV
  // (an overflow report would abort with SIGABRT instead), or the
  // sanitizer's own report.
  auto unmapped_write_in_fiber = [] {
    Fiber fiber([] {
      // Not null (UBSan would report that first): the unmapped first page.
      volatile int* unmapped = reinterpret_cast<volatile int*>(uintptr_t{0x1000});
      *unmapped = 1;
    });
    fiber.switch_to();
  };
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  EXPECT_DEATH(unmapped_write_in_fiber(), "Sanitizer: SEGV");
#else
  EXPECT_EXIT(unmapped_write_in_fiber(), testing::KilledBySignal(SIGSEGV), "");
#endif
}

TEST(FiberOverflowTest, DeepButBoundedRecursionFits) {
  recursion_limit = 100;  // 100 frames of ~300 bytes in a 64 KiB stack
  int result = 0;
  Fiber fiber([&] { result = recurse(0); });
  fiber.switch_to();
  recursion_limit = 1 << 30;
  EXPECT_NE(result, -1);
  EXPECT_FALSE(fiber.is_alive());
}

}  // namespace
}  // namespace evergreen
