// A fiber named by number (FiberAccess::use_name with a number, as the event
// loop names a task it numbered) reads as "task-N" everywhere, although the
// owner's string stays empty until someone formats it.
#include "evergreen/fiber/internal/numbered_name.h"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "evergreen/fiber/fiber.h"
#include "evergreen/fiber/internal/fiber_access.h"
#include "gtest/gtest.h"

namespace evergreen {
namespace {

using fiber_internal::FiberAccess;

std::string formatted(uint64_t number) {
  char buffer[fiber_internal::kNumberedNameCapacity];
  return std::string(buffer, fiber_internal::format_numbered_name(number, buffer));
}

TEST(NumberedNameTest, FormatsTaskAndTheNumber) {
  EXPECT_EQ(formatted(1), "task-1");
  EXPECT_EQ(formatted(4096), "task-4096");
  EXPECT_EQ(formatted(UINT64_MAX), "task-18446744073709551615");
}

TEST(NumberedNameTest, AFiberNamedByNumberReadsAsTaskN) {
  const std::string unformatted;
  Fiber fiber([] {});
  FiberAccess::use_name(fiber, unformatted, 42);
  EXPECT_EQ(fiber.name(), "task-42");
  EXPECT_TRUE(unformatted.empty()) << "the fiber must not write its owner's string";
}

TEST(NumberedNameTest, TheRunningFiberReadsItsNumberedName) {
  const std::string unformatted;
  std::string seen;
  Fiber fiber([&seen] { seen = Fiber::current()->name(); });
  FiberAccess::use_name(fiber, unformatted, 7);
  fiber.switch_to();
  EXPECT_EQ(seen, "task-7");
}

TEST(NumberedNameTest, OnceTheOwnerFillsItsStringThatIsTheName) {
  std::string owned;
  Fiber fiber([] {});
  FiberAccess::use_name(fiber, owned, 9);
  owned = "task-9";  // what the owner formats when its name is first read
  EXPECT_EQ(&fiber.name(), &owned);
}

TEST(NumberedNameTest, SetNameReplacesTheNumber) {
  const std::string unformatted;
  Fiber fiber([] {});
  FiberAccess::use_name(fiber, unformatted, 5);
  fiber.set_name("worker");
  EXPECT_EQ(fiber.name(), "worker");
  fiber.set_name("");
  EXPECT_EQ(fiber.name(), "");
}

TEST(NumberedNameTest, ErrorsNameTheFiberByItsNumber) {
  const std::string unformatted;
  Fiber fiber([] {});
  FiberAccess::use_name(fiber, unformatted, 11);
  fiber.switch_to();  // runs to its end
  try {
    fiber.switch_to();
    FAIL() << "switching to an ended fiber must throw";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("'task-11'"), std::string::npos) << error.what();
  }
}

// The stack size shares its word with the fiber's state (32 bits, stacks are
// at most 1 GiB): the largest one must read back whole.
TEST(NumberedNameTest, TheLargestStackSizeReadsBackWhole) {
  Fiber fiber([] {}, size_t{1} << 30);
  EXPECT_EQ(fiber.stack_size(), size_t{1} << 30);
}

}  // namespace
}  // namespace evergreen
