// Switching between fibers: order of execution, parents, current(), and the
// misuses that throw.
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evergreen/fiber/fiber.h"
#include "evergreen/fiber/internal/fiber_access.h"
#include "gtest/gtest.h"

namespace evergreen {
namespace {

using fiber_internal::FiberAccess;
using Log = std::vector<std::string>;

TEST(FiberSwitchTest, DoesNotRunUntilSwitchedTo) {
  bool ran = false;
  Fiber fiber([&] { ran = true; });
  EXPECT_FALSE(ran);
  EXPECT_TRUE(fiber.is_alive());
  fiber.switch_to();
  EXPECT_TRUE(ran);
}

TEST(FiberSwitchTest, PingPongWithMainRunsInOrder) {
  Log log;
  Fiber* main = Fiber::current();
  Fiber fiber([&] {
    log.push_back("fiber 1");
    main->switch_to();
    log.push_back("fiber 2");
    main->switch_to();
    log.push_back("fiber 3");
  });
  log.push_back("main 1");
  fiber.switch_to();
  log.push_back("main 2");
  fiber.switch_to();
  log.push_back("main 3");
  fiber.switch_to();  // the target returns: back here through the parent
  log.push_back("main 4");
  EXPECT_EQ(log, (Log{"main 1", "fiber 1", "main 2", "fiber 2", "main 3", "fiber 3", "main 4"}));
  EXPECT_FALSE(fiber.is_alive());
}

TEST(FiberSwitchTest, TwoFibersPingPongDirectly) {
  Log log;
  Fiber* ping_fiber = nullptr;
  Fiber* pong_fiber = nullptr;
  Fiber ping([&] {
    for (int i = 0; i < 3; ++i) {
      log.push_back("ping " + std::to_string(i));
      pong_fiber->switch_to();
    }
  });
  Fiber pong([&] {
    for (int i = 0; i < 3; ++i) {
      log.push_back("pong " + std::to_string(i));
      ping_fiber->switch_to();
    }
  });
  ping_fiber = &ping;
  pong_fiber = &pong;
  ping.switch_to();  // ping ends after its third switch comes back: returns here
  EXPECT_EQ(log, (Log{"ping 0", "pong 0", "ping 1", "pong 1", "ping 2", "pong 2"}));
  EXPECT_FALSE(ping.is_alive());
  EXPECT_TRUE(pong.is_alive());  // suspended in its last switch_to()
  pong.switch_to();              // lets it finish
  EXPECT_FALSE(pong.is_alive());
}

TEST(FiberSwitchTest, EndingReturnsToTheParentNotTheCaller) {
  Log log;
  Fiber* main = Fiber::current();
  Fiber parent([&] {
    log.push_back("parent waits");
    main->switch_to();
    log.push_back("parent resumed by child's end");
  });
  Fiber child([&] { log.push_back("child runs"); }, 0, &parent);
  EXPECT_EQ(child.parent(), &parent);
  parent.switch_to();  // parent suspends itself in main->switch_to()
  child.switch_to();   // child ends; control goes to parent, which then ends into main
  EXPECT_EQ(log, (Log{"parent waits", "child runs", "parent resumed by child's end"}));
  EXPECT_FALSE(parent.is_alive());
}

TEST(FiberSwitchTest, EndingSkipsEndedParents) {
  Log log;
  Fiber* main = Fiber::current();
  Fiber parent([&] { log.push_back("parent"); });
  Fiber child(
      [&] {
        log.push_back("child 1");
        main->switch_to();
        log.push_back("child 2");
      },
      0, &parent);
  child.switch_to();
  parent.switch_to();  // parent ends before its child
  child.switch_to();   // child ends: its parent has ended, so main (the grandparent) resumes
  log.push_back("main");
  EXPECT_EQ(log, (Log{"child 1", "parent", "child 2", "main"}));
}

TEST(FiberSwitchTest, EmptyTargetEndsAtOnce) {
  Fiber fiber(nullptr);
  fiber.switch_to();
  EXPECT_FALSE(fiber.is_alive());
}

TEST(FiberSwitchTest, CurrentIsTheRunningFiber) {
  Fiber* main = Fiber::current();
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(Fiber::current(), main);
  EXPECT_EQ(main->parent(), nullptr);
  EXPECT_TRUE(main->is_alive());
  EXPECT_EQ(main->name(), "main");
  EXPECT_EQ(main->stack_size(), 0u);
  Fiber* seen = nullptr;
  Fiber fiber([&] { seen = Fiber::current(); });
  EXPECT_EQ(fiber.parent(), main);  // default parent: current at construction
  fiber.switch_to();
  EXPECT_EQ(seen, &fiber);
  EXPECT_EQ(Fiber::current(), main);
}

TEST(FiberSwitchTest, DefaultParentIsCurrentAtConstruction) {
  Fiber* inner_parent = nullptr;
  Fiber outer([&] {
    Fiber inner([] {});
    inner_parent = inner.parent();
    inner.switch_to();
  });
  outer.switch_to();
  EXPECT_EQ(inner_parent, &outer);
}

TEST(FiberSwitchTest, EachThreadHasItsOwnMainFiber) {
  Fiber* here = Fiber::current();
  Fiber* there = nullptr;
  bool there_is_main = false;
  std::thread thread([&] {
    there = Fiber::current();
    there_is_main = there->parent() == nullptr && there == Fiber::current();
  });
  thread.join();
  EXPECT_NE(here, there);
  EXPECT_TRUE(there_is_main);
}

TEST(FiberSwitchTest, SwitchingToAnEndedFiberThrows) {
  Fiber fiber([] {});
  fiber.switch_to();
  ASSERT_FALSE(fiber.is_alive());
  EXPECT_THROW(fiber.switch_to(), std::runtime_error);
}

TEST(FiberSwitchTest, SwitchingToItselfThrows) {
  EXPECT_THROW(Fiber::current()->switch_to(), std::runtime_error);
  bool threw = false;
  Fiber fiber([&] {
    try {
      Fiber::current()->switch_to();
    } catch (const std::runtime_error& error) {
      threw = std::string(error.what()).find("itself") != std::string::npos;
    }
  });
  fiber.switch_to();
  EXPECT_TRUE(threw);
}

TEST(FiberSwitchTest, SwitchingToAFiberOfAnotherThreadThrows) {
  bool ran = false;
  Fiber fiber([&] { ran = true; });
  std::string message;
  std::thread thread([&] {
    try {
      fiber.switch_to();
    } catch (const std::runtime_error& error) {
      message = error.what();
    }
  });
  thread.join();
  EXPECT_NE(message.find("another thread"), std::string::npos) << message;
  EXPECT_FALSE(ran);
  fiber.switch_to();  // still usable on its own thread
  EXPECT_TRUE(ran);
}

TEST(FiberSwitchTest, SetParentChangesWhereControlGoes) {
  Log log;
  Fiber* main = Fiber::current();
  Fiber adopter([&] {
    log.push_back("adopter waits");
    main->switch_to();
    log.push_back("adopter resumed");
  });
  Fiber child([&] { log.push_back("child"); });
  EXPECT_EQ(child.parent(), main);
  child.set_parent(&adopter);
  EXPECT_EQ(child.parent(), &adopter);
  adopter.switch_to();
  child.switch_to();
  EXPECT_EQ(log, (Log{"adopter waits", "child", "adopter resumed"}));
}

TEST(FiberSwitchTest, SetParentRejectsNullCyclesMainAndOtherThreads) {
  Fiber a([] {});
  Fiber b([] {}, 0, &a);
  EXPECT_THROW(a.set_parent(nullptr), std::invalid_argument);
  EXPECT_THROW(a.set_parent(&a), std::invalid_argument);
  EXPECT_THROW(a.set_parent(&b), std::invalid_argument);  // b's parent is a
  EXPECT_EQ(a.parent(), Fiber::current());
  EXPECT_THROW(Fiber::current()->set_parent(&a), std::invalid_argument);
  bool threw = false;
  std::thread live([&] {
    Fiber theirs([] {});
    try {
      a.set_parent(&theirs);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
  });
  live.join();
  EXPECT_TRUE(threw);
}

TEST(FiberSwitchTest, ParentOnAnotherThreadIsRejectedAtConstruction) {
  Fiber mine([] {});
  bool threw = false;
  std::thread thread([&] {
    try {
      Fiber theirs([] {}, 0, &mine);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
  });
  thread.join();
  EXPECT_TRUE(threw);
}

TEST(FiberSwitchTest, NamesAreKept) {
  Fiber fiber([] {});
  EXPECT_EQ(fiber.name(), "");
  fiber.set_name("worker-1");
  EXPECT_EQ(fiber.name(), "worker-1");
  EXPECT_EQ(Fiber::current()->name(), "main");
}

TEST(FiberSwitchTest, AUsedNameIsReadFromItsOwner) {
  std::string owned = "borrowed";
  Fiber fiber([] {});
  FiberAccess::use_name(fiber, owned);
  EXPECT_EQ(&fiber.name(), &owned);  // not a copy
  owned = "changed";
  EXPECT_EQ(fiber.name(), "changed");
  fiber.set_name("own");  // owns its name again
  owned = "changed again";
  EXPECT_EQ(fiber.name(), "own");
  FiberAccess::use_name(fiber, owned);
  EXPECT_EQ(fiber.name(), "changed again");
}

TEST(FiberSwitchDeathTest, DestroyingASuspendedFiberIsFatal) {
  EXPECT_DEATH(
      {
        Fiber* main = Fiber::current();
        auto fiber = std::make_unique<Fiber>([&] { main->switch_to(); });
        fiber->set_name("sleeper");
        fiber->switch_to();
        fiber.reset();
      },
      "fatal: fiber 'sleeper' destroyed while it is running or suspended");
}

TEST(FiberSwitchTest, DestroyingNotStartedOrEndedFibersIsFine) {
  bool destroyed = false;
  struct SetOnDestruction {
    bool* flag;
    ~SetOnDestruction() { *flag = true; }
  };
  {
    auto capture = std::make_shared<SetOnDestruction>(SetOnDestruction{&destroyed});
    Fiber never_started([capture] {});
  }
  EXPECT_TRUE(destroyed);
  Fiber ended([] {});
  ended.switch_to();
}

TEST(FiberSwitchTest, TargetCapturesAreReleasedWhenItEnds) {
  auto token = std::make_shared<int>(7);
  std::weak_ptr<int> watch = token;
  Fiber fiber([token = std::move(token)] {});
  EXPECT_FALSE(watch.expired());
  fiber.switch_to();
  EXPECT_TRUE(watch.expired());  // not when the Fiber object is destroyed
}

}  // namespace
}  // namespace evergreen
