// set_report_handler and the default report: every place the library reports
// an exception nobody can catch goes through the handler; the default writes
// to stderr with demangled type names.
#include "evergreen/loop/report.h"

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/loop/loop_fixture.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;

namespace app {
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct NotAStdException {};
}  // namespace app

class ReportTest : public testing::LoopTest {
 protected:
  void TearDown() override {
    set_report_handler(nullptr);
    LoopTest::TearDown();
  }
};

TEST_F(ReportTest, HandlerGetsAnExceptionEscapingATask) {
  std::vector<Report> reports;
  set_report_handler([&](const Report& report) { reports.push_back(report); });
  auto task = spawn([] { throw app::ConfigError("no port"); });
  task->join();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].task_name, task->name());
  EXPECT_THROW(std::rethrow_exception(reports[0].error), app::ConfigError);
  EXPECT_NE(reports[0].message.find("task '" + task->name() + "'"), std::string::npos)
      << reports[0].message;
  EXPECT_NE(reports[0].message.find("evergreen::(anonymous namespace)::app::ConfigError: no port"),
            std::string::npos)
      << reports[0].message;
}

TEST_F(ReportTest, HandlerGetsAnExceptionEscapingALoopCallback) {
  std::vector<Report> reports;
  set_report_handler([&](const Report& report) { reports.push_back(report); });
  loop().call_soon([&] {
    // The second only once the first was reported: the order is the test's.
    loop().call_soon([] { throw app::NotAStdException{}; });
    throw std::out_of_range("index 7");
  });
  loop().run();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_TRUE(reports[0].task_name.empty());
  EXPECT_THROW(std::rethrow_exception(reports[0].error), std::out_of_range);
  EXPECT_NE(reports[0].message.find("std::out_of_range: index 7"), std::string::npos)
      << reports[0].message;
  EXPECT_NE(reports[1].message.find("app::NotAStdException"), std::string::npos)
      << reports[1].message;
}

TEST_F(ReportTest, DefaultGoesToStderrWithDemangledTypeNames) {
  ::testing::internal::CaptureStderr();
  spawn([] { throw std::logic_error("boom"); })->join();
  std::string output = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(output.find("evergreen: task '"), std::string::npos) << output;
  EXPECT_NE(output.find("std::logic_error: boom"), std::string::npos) << output;
  EXPECT_EQ(output.find("St11logic_error"), std::string::npos) << output;
}

TEST_F(ReportTest, AnEmptyHandlerRestoresStderr) {
  int handled = 0;
  set_report_handler([&](const Report&) { ++handled; });
  set_report_handler(nullptr);
  ::testing::internal::CaptureStderr();
  spawn([] { throw std::runtime_error("to stderr"); })->join();
  std::string output = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(handled, 0);
  EXPECT_NE(output.find("std::runtime_error: to stderr"), std::string::npos) << output;
}

TEST_F(ReportTest, AThrowingHandlerFallsBackToStderr) {
  set_report_handler([](const Report&) { throw std::runtime_error("handler broke"); });
  ::testing::internal::CaptureStderr();
  spawn([] { throw std::runtime_error("original"); })->join();
  std::string output = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(output.find("original"), std::string::npos) << output;
  EXPECT_NE(output.find("handler broke"), std::string::npos) << output;
}

TEST_F(ReportTest, AHandlerMayReplaceItself) {
  int first = 0, second = 0;
  set_report_handler([&](const Report&) {
    ++first;
    set_report_handler([&](const Report&) { ++second; });
  });
  spawn([] { throw std::runtime_error("one"); })->join();
  spawn([] { throw std::runtime_error("two"); })->join();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
}

TEST_F(ReportTest, TaskExitIsNotReported) {
  int handled = 0;
  set_report_handler([&](const Report&) { ++handled; });
  auto task = spawn([] { sleep(60s); });
  sleep(1ms);
  task->kill();
  task->join();
  EXPECT_EQ(handled, 0);
}

}  // namespace
}  // namespace evergreen
