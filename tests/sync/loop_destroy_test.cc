// EventLoop::destroy() with tasks whose unwinding depends on each other.
#include <chrono>
#include <mutex>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/condition.h"
#include "evergreen/sync/locks.h"
#include "gtest/gtest.h"
#include "tests/fresh_loop.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

struct SetOnDestroy {
  bool& flag;
  ~SetOnDestroy() { flag = true; }
};

TEST(LoopDestroyTest, KillsTasksRoundRobinSoDependentUnwindingCompletes) {
  testing::destroy_this_threads_loop();
  bool waiter_unwound = false, holder_unwound = false;
  {
    EventLoop loop;
    Lock lock;
    Condition condition(lock);
    // Started first: on TaskExit, Condition::wait must re-acquire the lock
    // before the exception propagates, and the holder below has it.
    spawn([&] {
      SetOnDestroy guard{waiter_unwound};
      std::unique_lock<Lock> held(lock);
      condition.wait();
    });
    spawn([&] {
      SetOnDestroy guard{holder_unwound};
      sleep(1ms);  // the waiter is now waiting, the lock free
      std::lock_guard<Lock> held(lock);
      sleep(1h);
    });
    loop.call_later(20ms, [&] { loop.stop(); });
    loop.run();
    loop.destroy();  // killing the waiter alone, again and again, would never end
  }
  EXPECT_TRUE(waiter_unwound);
  EXPECT_TRUE(holder_unwound);
}

}  // namespace
}  // namespace evergreen
