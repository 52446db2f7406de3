// The single-loop rule for executors and futures (API.md, Conventions): both
// belong to the loop they were created on; used from another thread they
// throw std::logic_error naming the object and both threads. Checked only in
// builds without NDEBUG: skipped otherwise.
#include <chrono>
#include <stdexcept>
#include <string>

#include "evergreen/futures/executor.h"
#include "evergreen/futures/future.h"
#include "futures_test_support.h"
#include "gtest/gtest.h"
#include "tests/foreign_thread.h"

using namespace std::chrono_literals;

namespace evergreen::futures {
namespace {

using evergreen::testing::call_on_another_thread;
using evergreen::testing::expect_wrong_thread_error;

class ThreadAffinityTest : public evergreen::testing::FuturesTest {
 protected:
  void SetUp() override {
    if (!evergreen::testing::thread_checks_compiled_in()) {
      GTEST_SKIP() << "NDEBUG build: the owner-thread check is compiled out";
    }
  }
};

TEST_F(ThreadAffinityTest, TaskPoolSubmitFromAnotherThreadThrows) {
  TaskPoolExecutor executor(1);
  auto call = call_on_another_thread([&] { executor.submit([] { return 1; }); });
  expect_wrong_thread_error(call, "TaskPoolExecutor");
  EXPECT_NE(call.message.find("submit"), std::string::npos) << call.message;
  expect_wrong_thread_error(call_on_another_thread([&] { executor.shutdown(false); }),
                            "TaskPoolExecutor");
  EXPECT_EQ(executor.submit([] { return 2; }).get(5s), 2) << "still usable on its own loop";
}

TEST_F(ThreadAffinityTest, ThreadPoolSubmitFromAnotherThreadThrows) {
  ThreadPoolExecutor executor(1);
  expect_wrong_thread_error(call_on_another_thread([&] { executor.submit([] {}); }),
                            "ThreadPoolExecutor");
  EXPECT_EQ(executor.submit([] { return 3; }).get(5s), 3);
}

TEST_F(ThreadAffinityTest, FutureUsedFromAnotherThreadThrows) {
  ThreadPoolExecutor executor(1);
  Future<int> future = executor.submit([] { return 4; });
  expect_wrong_thread_error(call_on_another_thread([&] { future.get(); }), "Future");
  expect_wrong_thread_error(call_on_another_thread([&] { future.cancel(); }), "Future");
  // The worker thread ran the call and handed the outcome back: the
  // documented cross-thread path still works.
  EXPECT_EQ(future.get(5s), 4);
}

}  // namespace
}  // namespace evergreen::futures
