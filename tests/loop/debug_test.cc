// list_tasks(), dump_tasks() and the deadlock error's list of blocked tasks.
#include "evergreen/loop/debug.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evergreen/futures/executor.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/channel.h"
#include "evergreen/sync/event.h"
#include "evergreen/sync/locks.h"
#include "evergreen/sync/queue.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

// Outside any namespace and not inlined, so that its name shows in a stack
// (the test links with -rdynamic for dladdr to see it). The empty asm after
// the call keeps the call from becoming a tail jump, which would leave no
// frame of its own.
[[gnu::noinline]] void debug_test_parks_here(evergreen::Event& event) {
  event.wait();
  asm volatile("" ::: "memory");
}

namespace evergreen {
namespace {

using namespace std::chrono_literals;
using DebugTest = testing::LoopTest;

const TaskInfo* find_task(const std::vector<TaskInfo>& tasks, const std::string& name) {
  auto it = std::find_if(tasks.begin(), tasks.end(),
                         [&](const TaskInfo& task) { return task.name == name; });
  return it == tasks.end() ? nullptr : &*it;
}

std::shared_ptr<Task> start(std::string name, absl::AnyInvocable<void()> body) {
  auto task = std::make_shared<Task>(std::move(body), std::move(name));
  task->start();
  return task;
}

TEST_F(DebugTest, EachBlockedTaskNamesTheCallItWaitsIn) {
  Event gate;
  Lock lock;
  lock.acquire();  // held by the main context
  Queue<int> queue;
  Channel<int> channel;
  futures::TaskPoolExecutor executor(1);
  futures::Future<int> future = executor.submit([&] {
    gate.wait();
    return 7;
  });

  std::vector<std::shared_ptr<Task>> tasks;
  tasks.push_back(start("sleeper", [] { sleep(1h); }));
  tasks.push_back(start("locker", [&] { lock.acquire(); lock.release(); }));
  tasks.push_back(start("getter", [&] { queue.get(); }));
  tasks.push_back(start("receiver", [&] { channel.receive(); }));
  tasks.push_back(start("event", [&] { gate.wait(); }));
  tasks.push_back(start("future", [&] { future.get(); }));
  std::shared_ptr<Task> sleeper = tasks.front();
  tasks.push_back(start("joiner", [&] { sleeper->join(); }));
  sleep(0s);  // every task runs until it blocks
  tasks.push_back(start("late", [] {}));  // started, not run yet

  std::vector<TaskInfo> listed = list_tasks();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"sleeper", "sleep"},         {"locker", "Lock::acquire"}, {"getter", "Queue::get"},
      {"receiver", "Channel::receive"}, {"event", "Event::wait"}, {"future", "Future::get"},
      {"joiner", "join"}};
  for (const auto& [name, waiting_on] : expected) {
    const TaskInfo* task = find_task(listed, name);
    ASSERT_NE(task, nullptr) << name;
    EXPECT_EQ(task->state, TaskState::kBlocked) << name;
    EXPECT_EQ(task->waiting_on, waiting_on) << name;
    EXPECT_FALSE(task->stack.empty()) << name;
  }
  const TaskInfo* late = find_task(listed, "late");
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->state, TaskState::kReady);
  EXPECT_EQ(late->waiting_on, "");
  EXPECT_TRUE(late->stack.empty());  // never ran: no stack yet

  gate.set();
  EXPECT_EQ(future.get(), 7);
  lock.release();
  queue.put(1);
  channel.send(2);
  for (auto& task : tasks) task->kill();
  for (auto& task : tasks) task->join();
  // Ended tasks leave the list.
  std::vector<TaskInfo> after = list_tasks();
  for (const auto& [name, waiting_on] : expected)
    EXPECT_EQ(find_task(after, name), nullptr) << name;
}

TEST_F(DebugTest, TasksAreListedInStartOrderAndTheCallerIsRunning) {
  std::vector<std::string> seen_by_third;
  TaskState third_state = TaskState::kBlocked;
  auto first = spawn([] { sleep(1h); });
  auto second = std::make_shared<Task>([] { sleep(1h); }, "second");
  auto third = std::make_shared<Task>(
      [&] {
        for (const TaskInfo& task : list_tasks()) {
          seen_by_third.push_back(task.name);
          if (task.name == "third") third_state = task.state;
        }
      },
      "third");
  second->start();
  third->start();
  third->join();
  EXPECT_EQ(seen_by_third, (std::vector<std::string>{first->name(), "second", "third"}));
  EXPECT_EQ(third_state, TaskState::kRunning);
  first->kill();
  second->kill();
  first->join();
  second->join();
}

TEST_F(DebugTest, WaitingForGrowsWhileTheTaskStaysBlocked) {
  Event never;
  auto waiter = start("waiter", [&] { never.wait(); });
  sleep(0s);
  std::vector<TaskInfo> first = list_tasks();
  ASSERT_NE(find_task(first, "waiter"), nullptr);
  Duration before = find_task(first, "waiter")->waiting_for;
  sleep(30ms);
  std::vector<TaskInfo> second = list_tasks();
  ASSERT_NE(find_task(second, "waiter"), nullptr);
  Duration after = find_task(second, "waiter")->waiting_for;
  // Both figures come from the coarse clock, which moves in kernel ticks (up
  // to 10 ms at HZ=100): 30 ms of sleep can read as 28.
  EXPECT_GE(after - before, 20ms);
  waiter->kill();
  waiter->join();
}

TEST_F(DebugTest, StackNamesTheFunctionsTheTaskIsIn) {
  Event never;
  auto parked = start("parked", [&] { debug_test_parks_here(never); });
  sleep(0s);
  std::vector<TaskInfo> listed = list_tasks();
  const TaskInfo* task = find_task(listed, "parked");
  ASSERT_NE(task, nullptr);
  std::string frames;
  for (const std::string& frame : task->stack) frames += frame + "\n";
  EXPECT_NE(frames.find("debug_test_parks_here"), std::string::npos) << frames;
  EXPECT_NE(frames.find("evergreen::Event::wait"), std::string::npos) << frames;
  // Innermost first: the blocking call comes before the function that made it.
  EXPECT_LT(frames.find("evergreen::Event::wait"), frames.find("debug_test_parks_here")) << frames;
  parked->kill();
  parked->join();
}

TEST_F(DebugTest, DumpHasABlockPerTaskWithItsStack) {
  Event never;
  auto a = start("alpha", [&] { debug_test_parks_here(never); });
  auto b = start("beta", [] { sleep(1h); });
  sleep(0s);
  std::ostringstream out;
  dump_tasks(out);
  const std::string dump = out.str();
  EXPECT_NE(dump.find("evergreen: 2 tasks on this thread's loop\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("task 'alpha' blocked on Event::wait for "), std::string::npos) << dump;
  EXPECT_NE(dump.find("task 'beta' blocked on sleep for "), std::string::npos) << dump;
  EXPECT_LT(dump.find("task 'alpha'"), dump.find("task 'beta'")) << dump;
  EXPECT_NE(dump.find("    #0 "), std::string::npos) << dump;
  EXPECT_NE(dump.find("debug_test_parks_here"), std::string::npos) << dump;
  a->kill();
  b->kill();
  a->join();
  b->join();
}

TEST_F(DebugTest, NoTasksOnAThreadWithoutALoop) {
  std::vector<TaskInfo> seen{TaskInfo{}};
  std::thread([&] { seen = list_tasks(); }).join();
  EXPECT_TRUE(seen.empty());
}

TEST_F(DebugTest, DeadlockErrorListsTheBlockedTasksAndWhatTheyWaitOn) {
  Event never;
  Lock lock;
  auto holder = start("holder", [&] {
    lock.acquire();
    never.wait();
  });
  auto contender = start("contender", [&] { lock.acquire(); });
  std::string message;
  try {
    holder->join();
  } catch (const std::runtime_error& error) {
    message = error.what();
  }
  EXPECT_NE(message.find("deadlock"), std::string::npos) << message;
  EXPECT_NE(message.find("\n  'holder' waits on Event::wait"), std::string::npos) << message;
  EXPECT_NE(message.find("\n  'contender' waits on Lock::acquire"), std::string::npos) << message;
  EXPECT_EQ(message.find("more"), std::string::npos) << message;
  EXPECT_EQ(message.find("cycle"), std::string::npos) << message;  // Lock has no owner to follow
}

TEST_F(DebugTest, DeadlockErrorShowsTasksJoiningEachOtherAsACycle) {
  std::shared_ptr<Task> first;
  std::shared_ptr<Task> second;
  first = start("first", [&] {
    sleep(0s);  // let the second start
    second->join();
  });
  second = start("second", [&] { first->join(); });
  std::string message;
  try {
    first->join();
  } catch (const std::runtime_error& error) {
    message = error.what();
  }
  EXPECT_NE(message.find("\n  'first' waits on join"), std::string::npos) << message;
  EXPECT_NE(message.find("\n  'second' waits on join"), std::string::npos) << message;
  EXPECT_NE(message.find("\n  cycle: 'first' (join) -> 'second' (join) -> 'first'"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("cycle", message.find("cycle") + 1), std::string::npos) << message;
  // End the tasks while `first` and `second` still own them: each joins the
  // other through these references.
  loop().destroy();
}

TEST_F(DebugTest, DeadlockErrorListsTheFirstTwentyThenCountsTheRest) {
  Event never;
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < 25; ++i) {
    tasks.push_back(start("w" + std::to_string(i), [&] { never.wait(); }));
  }
  std::string message;
  try {
    never.wait();
  } catch (const std::runtime_error& error) {
    message = error.what();
  }
  EXPECT_NE(message.find("\n  'w0' waits on Event::wait"), std::string::npos) << message;
  EXPECT_NE(message.find("\n  'w19' waits on Event::wait"), std::string::npos) << message;
  EXPECT_EQ(message.find("'w20'"), std::string::npos) << message;
  EXPECT_NE(message.find("\n  ... and 5 more"), std::string::npos) << message;
}

}  // namespace
}  // namespace evergreen
