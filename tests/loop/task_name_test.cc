// Default task names ("task-N") are formatted only when read, and every
// reader sees the name the eager formatting gave: Task::name(), the task's
// fiber, reports, errors and the signal-safe copy the stall sampler takes.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "evergreen/fiber/fiber.h"
#include "evergreen/loop/report.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

namespace evergreen {
namespace {

class TaskNameTest : public testing::LoopTest {
 protected:
  void TearDown() override {
    set_report_handler(nullptr);
    LoopTest::TearDown();
  }
};

uint64_t number_of(const std::string& name) {
  EXPECT_EQ(name.rfind("task-", 0), 0u) << name;
  return std::stoull(name.substr(5));
}

std::string copied_name(const Task& task, size_t capacity) {
  std::string out(capacity, '\0');
  out.resize(internal::copy_task_name(task, out.data(), capacity));
  return out;
}

TEST_F(TaskNameTest, ANameReadLateIsTheOneItsCreationOrderGave) {
  // Names read in the reverse of creation order, after the tasks ended: the
  // number is fixed at creation, not at the first read.
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < 5; ++i) tasks.push_back(spawn([] {}));
  for (auto& task : tasks) task->join();
  const uint64_t first = number_of(tasks[0]->name());
  for (size_t i = tasks.size(); i-- > 1;) {
    EXPECT_EQ(tasks[i]->name(), "task-" + std::to_string(first + i));
  }
  // Constructed tasks share the numbering.
  Task constructed([] {});
  EXPECT_EQ(constructed.name(), "task-" + std::to_string(first + tasks.size()));
}

TEST_F(TaskNameTest, ReadingTwiceGivesTheSameString) {
  Task task([] {});
  const std::string& once = task.name();
  EXPECT_EQ(&once, &task.name());
  EXPECT_EQ(once, task.name());
}

TEST_F(TaskNameTest, AGivenNameIsKeptAndTakesNoNumber) {
  Task before([] {});
  Task named([] {}, "worker");
  Task after([] {});
  EXPECT_EQ(named.name(), "worker");
  EXPECT_EQ(number_of(after.name()), number_of(before.name()) + 1);
}

TEST_F(TaskNameTest, TheTasksFiberHasTheTasksNameBeforeTheTaskIsAsked) {
  std::string from_fiber;
  auto task = spawn([&from_fiber] { from_fiber = Fiber::current()->name(); });
  task->join();
  EXPECT_EQ(from_fiber, task->name());
  EXPECT_EQ(from_fiber.rfind("task-", 0), 0u) << from_fiber;
}

TEST_F(TaskNameTest, TheFibersNameAndTheTasksNameAgreeInEitherOrder) {
  std::string fiber_first, task_after;
  auto task = spawn([&] {
    fiber_first = Fiber::current()->name();
    task_after = Task::current()->name();
  });
  task->join();
  EXPECT_EQ(fiber_first, task_after);
  std::string task_first, fiber_after;
  auto other = spawn([&] {
    task_first = Task::current()->name();
    fiber_after = Fiber::current()->name();
  });
  other->join();
  EXPECT_EQ(task_first, fiber_after);
  EXPECT_EQ(number_of(task_first), number_of(fiber_first) + 1);
}

TEST_F(TaskNameTest, TheSignalSafeCopyMatchesTheNameEvenBeforeItIsRead) {
  Task task([] {});
  const std::string copied = copied_name(task, 64);  // nothing read it yet
  EXPECT_EQ(copied, task.name());
  EXPECT_EQ(copied_name(task, 64), task.name());     // and after
  EXPECT_EQ(copied_name(task, 3), "tas");            // cut at the capacity
  Task named([] {}, "worker");
  EXPECT_EQ(copied_name(named, 64), "worker");
}

TEST_F(TaskNameTest, ReportsAndErrorsNameADefaultNamedTask) {
  std::vector<Report> reports;
  set_report_handler([&](const Report& report) { reports.push_back(report); });
  auto task = spawn([] { throw std::runtime_error("boom"); });
  task->join();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].task_name.rfind("task-", 0), 0u) << reports[0].task_name;
  EXPECT_EQ(reports[0].task_name, task->name());
  Task unstarted([] {});
  try {
    unstarted.join();
    FAIL() << "joining an unstarted task must throw";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("'" + unstarted.name() + "'"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace evergreen
