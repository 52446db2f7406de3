#include "evergreen/loop/local.h"

#include <chrono>
#include <string>
#include <vector>

#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::LoopTest;

TEST_F(LoopTest, EachTaskHasItsOwnValue) {
  TaskLocal<int> local;
  std::vector<int> seen;
  for (int id = 1; id <= 3; ++id) {
    spawn([&, id] {
      EXPECT_EQ(local.get(), 0);  // value-initialised
      local.get() = id;
      sleep(0s);  // the others write their own meanwhile
      seen.push_back(local.get());
    });
  }
  local.get() = 100;  // the code outside tasks has one too
  loop().run();
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(local.get(), 100);
}

struct Tracked {
  static inline int live = 0;
  Tracked() { ++live; }
  ~Tracked() { --live; }
  std::string tag;
};

TEST_F(LoopTest, ValuesAreDestroyedWhenTheTaskEnds) {
  TaskLocal<Tracked> local;
  int live_inside = -1;
  auto task = spawn([&] {
    local->tag = "mine";
    live_inside = Tracked::live;
  });
  task->join();
  EXPECT_EQ(live_inside, 1);
  EXPECT_EQ(Tracked::live, 0);
}

TEST_F(LoopTest, ValuesOfAKilledTaskAreDestroyed) {
  TaskLocal<Tracked> local;
  auto task = spawn([&] {
    local.get();
    sleep(1h);
  });
  spawn([&] { task->kill(); });
  loop().run();
  EXPECT_EQ(Tracked::live, 0);
}

TEST_F(LoopTest, TwoLocalsAreIndependent) {
  TaskLocal<int> a, b;
  spawn([&] {
    a.get() = 1;
    b.get() = 2;
    EXPECT_EQ(*a, 1);
    EXPECT_EQ(*b, 2);
  });
  loop().run();
}

}  // namespace
}  // namespace evergreen
