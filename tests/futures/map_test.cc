// Executor::map(): results in input order, lazily, the first failure at its
// position, a timeout from the call to map(), and bounded concurrency.
#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "evergreen/futures/executor.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/futures/futures_test_support.h"

using namespace std::chrono_literals;

namespace evergreen::futures {
namespace {

using MapTest = evergreen::testing::FuturesTest;

TEST_F(MapTest, YieldsResultsInInputOrder) {
  TaskPoolExecutor executor(8);
  // Later inputs finish first.
  std::vector<int> inputs = {40, 30, 20, 10, 0};
  std::vector<int> results;
  for (int& result : executor.map(
           [](int ms) {
             sleep(std::chrono::milliseconds(ms));
             return ms * 2;
           },
           inputs, 5s)) {
    results.push_back(result);
  }
  EXPECT_EQ(results, (std::vector<int>{80, 60, 40, 20, 0}));
}

TEST_F(MapTest, TheCrawlerExample) {
  TaskPoolExecutor executor(100);
  std::vector<std::string> urls = {"http://google.com", "http://yahoo.com", "http://bing.com"};
  auto fetch = [](const std::string& url) {
    sleep(1ms);  // stands in for a cooperative HTTP fetch
    return "<html>" + url + "</html>";
  };
  std::vector<size_t> sizes;
  for (std::string& body : executor.map(fetch, urls)) sizes.push_back(body.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{30, 29, 28}));
}

TEST_F(MapTest, YieldsEachResultAsSoonAsItIsReady) {
  TaskPoolExecutor executor(2);
  bool slow_finished = false;
  std::vector<bool> slow_finished_when_yielded;
  for (int& ms : executor.map(
           [&](int ms) {
             sleep(std::chrono::milliseconds(ms));
             if (ms > 0) slow_finished = true;
             return ms;
           },
           std::vector<int>{0, 50})) {
    slow_finished_when_yielded.push_back(slow_finished);
    (void)ms;
  }
  EXPECT_EQ(slow_finished_when_yielded, (std::vector<bool>{false, true}));
}

TEST_F(MapTest, TheFirstFailureIsRaisedAtItsPositionAndTheRestCancelled) {
  TaskPoolExecutor executor(1);
  std::vector<int> ran;
  std::vector<int> yielded;
  auto results = executor.map(
      [&](int x) {
        ran.push_back(x);
        sleep(1ms);  // lets the consumer run between calls
        if (x == 2) throw std::invalid_argument("two");
        return x;
      },
      std::vector<int>{0, 1, 2, 3, 4, 5});
  EXPECT_THROW(
      {
        for (int& x : results) yielded.push_back(x);
      },
      std::invalid_argument);
  EXPECT_EQ(yielded, (std::vector<int>{0, 1}));
  EXPECT_TRUE(results.begin() == results.end()) << "the range ends at the failure";
  executor.shutdown(true);
  // One worker: when the failure surfaced it had at most started the next
  // call; the ones after it were cancelled and never ran.
  EXPECT_LE(ran.size(), 4u);
  EXPECT_EQ(ran.front(), 0);
}

TEST_F(MapTest, TheTimeoutCountsFromTheCallToMap) {
  TaskPoolExecutor executor(4);
  evergreen::testing::Gate stuck;
  std::vector<int> yielded;
  auto start = now();
  // -1 stands for a call that never finishes on its own.
  auto results = executor.map(
      [&stuck](int ms) {
        if (ms < 0) {
          stuck.wait();
        } else {
          sleep(std::chrono::milliseconds(ms));
        }
        return ms;
      },
      std::vector<int>{1, 10, -1, 1}, 200ms);
  EXPECT_THROW(
      {
        for (int& ms : results) yielded.push_back(ms);
      },
      TimeoutError);
  auto elapsed = now() - start;
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 2s);
  EXPECT_EQ(yielded, (std::vector<int>{1, 10}));
  stuck.open();
}

TEST_F(MapTest, MaxWorkersBoundsTheConcurrency) {
  TaskPoolExecutor executor(3);
  int running = 0;
  int peak = 0;
  std::vector<int> inputs(12);
  int count = 0;
  for (int& unused : executor.map(
           [&](int) {
             peak = std::max(peak, ++running);
             sleep(2ms);
             --running;
             return 0;
           },
           inputs)) {
    (void)unused;
    ++count;
  }
  EXPECT_EQ(count, 12);
  EXPECT_EQ(peak, 3);
}

TEST_F(MapTest, MoveOnlyAndVoidResults) {
  TaskPoolExecutor executor(2);
  std::vector<int> values;
  for (std::unique_ptr<int>& owned :
       executor.map([](int x) { return std::make_unique<int>(x); }, std::vector<int>{1, 2, 3})) {
    std::unique_ptr<int> mine = std::move(owned);
    values.push_back(*mine);
  }
  EXPECT_EQ(values, (std::vector<int>{1, 2, 3}));

  int calls = 0;
  int yielded = 0;
  for (std::monostate& nothing : executor.map([&](int) { ++calls; }, std::vector<int>{1, 2})) {
    (void)nothing;
    ++yielded;
  }
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(yielded, 2);
}

TEST_F(MapTest, WorksOnAThreadPool) {
  ThreadPoolExecutor executor(3);
  std::vector<int> results;
  for (int& x : executor.map(
           [](int x) {
             std::this_thread::sleep_for(std::chrono::milliseconds(10 - x));
             return x * x;
           },
           std::vector<int>{1, 2, 3, 4, 5}, 5s)) {
    results.push_back(x);
  }
  EXPECT_EQ(results, (std::vector<int>{1, 4, 9, 16, 25}));
}

TEST_F(MapTest, LeavingTheLoopEarlyCancelsWhatHasNotStarted) {
  TaskPoolExecutor executor(1);
  int ran = 0;
  {
    auto results = executor.map(
        [&](int x) {
          ++ran;
          sleep(1ms);
          return x;
        },
        std::vector<int>{0, 1, 2, 3, 4, 5});
    for (int& x : results) {
      EXPECT_EQ(x, 0);
      break;
    }
  }
  executor.shutdown(true);
  EXPECT_LE(ran, 2) << "the first, and at most the one already started";
}

TEST_F(MapTest, ARangeNeverIteratedStillRunsEveryCall) {
  TaskPoolExecutor executor(2);
  int ran = 0;
  {
    auto ignored = executor.map([&](int) { ++ran; }, std::vector<int>{1, 2, 3});
  }
  executor.shutdown(true);
  EXPECT_EQ(ran, 3);
}

TEST_F(MapTest, TakesAnyInputRange) {
  TaskPoolExecutor executor(2);
  int sum = 0;
  for (int& x : executor.map([](int x) { return x * 10; }, std::views::iota(1, 4))) sum += x;
  EXPECT_EQ(sum, 60);
}

}  // namespace
}  // namespace evergreen::futures
