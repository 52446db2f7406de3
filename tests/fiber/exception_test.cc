// Exceptions across fibers: propagation to the parent, throw_into(), and the
// per-fiber C and C++ runtime state (errno, the caught-exception stack,
// std::uncaught_exceptions()).
#include <cerrno>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "evergreen/fiber/fiber.h"
#include "gtest/gtest.h"

namespace evergreen {
namespace {

using Log = std::vector<std::string>;

std::string what_of(const std::exception_ptr& exception) {
  if (!exception) return "<none>";
  try {
    std::rethrow_exception(exception);
  } catch (const std::exception& error) {
    return error.what();
  } catch (...) {
    return "<not a std::exception>";
  }
}

std::exception_ptr error(const char* what) {
  return std::make_exception_ptr(std::runtime_error(what));
}

// --- Propagation to the parent ----------------------------------------------------

TEST(FiberExceptionTest, EscapingExceptionIsRethrownInTheParent) {
  Fiber fiber([] { throw std::runtime_error("from the fiber"); });
  try {
    fiber.switch_to();
    FAIL() << "switch_to() should have thrown";
  } catch (const std::runtime_error& caught) {
    EXPECT_STREQ(caught.what(), "from the fiber");
  }
  EXPECT_FALSE(fiber.is_alive());
}

TEST(FiberExceptionTest, EscapingExceptionGoesToTheParentFiberNotTheCaller) {
  Fiber* main = Fiber::current();
  std::string parent_caught;
  Fiber parent([&] {
    try {
      main->switch_to();  // suspended here when the child ends
    } catch (const std::runtime_error& caught) {
      parent_caught = caught.what();
    }
  });
  Fiber child([] { throw std::runtime_error("child failed"); }, 0, &parent);
  parent.switch_to();
  EXPECT_NO_THROW(child.switch_to());  // the parent catches, then ends into main
  EXPECT_EQ(parent_caught, "child failed");
}

TEST(FiberExceptionTest, NonStandardExceptionsPropagateToo) {
  Fiber fiber([] { throw 42; });
  try {
    fiber.switch_to();
    FAIL();
  } catch (int value) {
    EXPECT_EQ(value, 42);
  }
}

// --- throw_into ------------------------------------------------------------------

TEST(FiberExceptionTest, ThrowIntoSuspendedFiberCanBeCaughtThere) {
  Fiber* main = Fiber::current();
  std::string caught_inside;
  Fiber fiber([&] {
    try {
      main->switch_to();
    } catch (const std::runtime_error& caught) {
      caught_inside = caught.what();
    }
  });
  fiber.switch_to();
  fiber.throw_into(error("wake up"));  // caught inside; the fiber then ends
  EXPECT_EQ(caught_inside, "wake up");
  EXPECT_FALSE(fiber.is_alive());
}

TEST(FiberExceptionTest, ThrowIntoSuspendedFiberPropagatesToParentIfUncaught) {
  Fiber* main = Fiber::current();
  bool resumed_normally = false;
  Fiber fiber([&] {
    main->switch_to();
    resumed_normally = true;
  });
  fiber.switch_to();
  try {
    fiber.throw_into(error("kill"));
    FAIL() << "throw_into() should have re-thrown the uncaught exception";
  } catch (const std::runtime_error& caught) {
    EXPECT_STREQ(caught.what(), "kill");
  }
  EXPECT_FALSE(resumed_normally);
  EXPECT_FALSE(fiber.is_alive());
}

TEST(FiberExceptionTest, ThrowIntoSuspendedFiberRunsItsDestructors) {
  Fiber* main = Fiber::current();
  bool destroyed = false;
  struct Guard {
    bool* flag;
    ~Guard() { *flag = true; }
  };
  Fiber fiber([&] {
    Guard guard{&destroyed};
    main->switch_to();
  });
  fiber.switch_to();
  EXPECT_THROW(fiber.throw_into(error("unwind")), std::runtime_error);
  EXPECT_TRUE(destroyed);
}

TEST(FiberExceptionTest, ThrowIntoNotStartedFiberNeverRunsItsTarget) {
  bool ran = false;
  Fiber fiber([&] { ran = true; });
  try {
    fiber.throw_into(error("before start"));
    FAIL();
  } catch (const std::runtime_error& caught) {
    EXPECT_STREQ(caught.what(), "before start");
  }
  EXPECT_FALSE(ran);
  EXPECT_FALSE(fiber.is_alive());
  EXPECT_THROW(fiber.switch_to(), std::runtime_error);
}

TEST(FiberExceptionTest, ThrowIntoNotStartedFiberRaisesInItsParent) {
  Fiber* main = Fiber::current();
  std::string parent_caught;
  Fiber parent([&] {
    try {
      main->switch_to();
    } catch (const std::runtime_error& caught) {
      parent_caught = caught.what();
    }
  });
  bool ran = false;
  Fiber child([&] { ran = true; }, 0, &parent);
  parent.switch_to();
  child.throw_into(error("for the parent"));  // the parent catches and ends into main
  EXPECT_FALSE(ran);
  EXPECT_EQ(parent_caught, "for the parent");
}

TEST(FiberExceptionTest, ThrowIntoEndedFiberThrowsRuntimeError) {
  Fiber fiber([] {});
  fiber.switch_to();
  EXPECT_THROW(fiber.throw_into(error("too late")), std::runtime_error);
}

TEST(FiberExceptionTest, ThrowIntoNullIsInvalid) {
  Fiber fiber([] {});
  EXPECT_THROW(fiber.throw_into(nullptr), std::invalid_argument);
  fiber.switch_to();
}

TEST(FiberExceptionTest, ThrowIntoTheRunningFiberThrowsAtOnce) {
  EXPECT_THROW(Fiber::current()->throw_into(error("self")), std::runtime_error);
}

// --- errno --------------------------------------------------------------------------

TEST(FiberRuntimeStateTest, ErrnoBelongsToEachFiber) {
  Fiber* main = Fiber::current();
  int at_start = -1;
  int after_resume = -1;
  Fiber fiber([&] {
    at_start = errno;
    errno = EAGAIN;
    main->switch_to();
    after_resume = errno;
  });
  errno = EINTR;
  fiber.switch_to();
  EXPECT_EQ(at_start, 0);  // a new fiber starts with errno 0
  EXPECT_EQ(errno, EINTR);
  errno = EBADF;
  fiber.switch_to();
  EXPECT_EQ(after_resume, EAGAIN);
  EXPECT_EQ(errno, EBADF);
}

// --- Exception state ----------------------------------------------------------------

TEST(FiberRuntimeStateTest, CaughtExceptionSurvivesAnotherFibersTryCatch) {
  Log log;
  Fiber* a_fiber = nullptr;
  std::exception_ptr b_current_after_resume;
  Fiber b([&] {
    try {
      throw std::runtime_error("B's exception");
    } catch (const std::exception& caught) {
      log.push_back(std::string("B caught ") + caught.what());
      a_fiber->switch_to();  // suspended inside B's catch block
      b_current_after_resume = std::current_exception();
    }
  });
  Fiber a([&] {
    try {
      throw std::runtime_error("A's exception");
    } catch (...) {
      b.switch_to();  // B throws and catches its own, then switches back here
      log.push_back("A sees " + what_of(std::current_exception()));
      try {
        throw;  // re-throws A's exception, not B's
      } catch (const std::exception& rethrown) {
        log.push_back(std::string("A rethrew ") + rethrown.what());
      }
    }
  });
  a_fiber = &a;
  a.switch_to();  // A ends into main
  EXPECT_EQ(std::current_exception(), nullptr);
  b.switch_to();  // B resumes inside its catch block and ends
  EXPECT_EQ(log,
            (Log{"B caught B's exception", "A sees A's exception", "A rethrew A's exception"}));
  EXPECT_EQ(what_of(b_current_after_resume), "B's exception");
  EXPECT_EQ(std::current_exception(), nullptr);
}

TEST(FiberRuntimeStateTest, MainCatchBlockIsUnaffectedByFibers) {
  try {
    throw std::runtime_error("main's exception");
  } catch (...) {
    Fiber fiber([] {
      try {
        throw std::logic_error("fiber's exception");
      } catch (...) {
        Fiber::current()->parent()->switch_to();  // leave while inside the catch
      }
    });
    fiber.switch_to();
    EXPECT_EQ(what_of(std::current_exception()), "main's exception");
    fiber.switch_to();
    EXPECT_EQ(what_of(std::current_exception()), "main's exception");
  }
}

TEST(FiberRuntimeStateTest, UncaughtExceptionsCountIsPerFiber) {
  Fiber* main = Fiber::current();
  std::vector<int> during_unwinding;
  struct SwitchesDuringUnwinding {
    Fiber* main;
    std::vector<int>* seen;
    ~SwitchesDuringUnwinding() {
      seen->push_back(std::uncaught_exceptions());
      main->switch_to();  // suspended mid-unwinding
      seen->push_back(std::uncaught_exceptions());
    }
  };
  Fiber fiber([&] {
    SwitchesDuringUnwinding guard{main, &during_unwinding};
    throw std::runtime_error("unwinding");
  });
  fiber.switch_to();  // returns while the fiber is unwinding
  EXPECT_EQ(std::uncaught_exceptions(), 0);
  try {
    throw 1;
  } catch (int) {
  }
  EXPECT_EQ(std::uncaught_exceptions(), 0);
  EXPECT_THROW(fiber.switch_to(), std::runtime_error);  // unwinding completes
  EXPECT_EQ(during_unwinding, (std::vector<int>{1, 1}));
  EXPECT_EQ(std::uncaught_exceptions(), 0);
}

TEST(FiberRuntimeStateTest, NewFiberStartsWithNoException) {
  std::exception_ptr seen = error("placeholder");
  int uncaught = -1;
  try {
    throw std::runtime_error("main's");
  } catch (...) {
    Fiber fiber([&] {
      seen = std::current_exception();
      uncaught = std::uncaught_exceptions();
    });
    fiber.switch_to();
  }
  EXPECT_EQ(seen, nullptr);
  EXPECT_EQ(uncaught, 0);
}

}  // namespace
}  // namespace evergreen
