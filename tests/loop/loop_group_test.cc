// LoopGroup: threads, naming, pinning, post/post_each, stop/join and misuse.
#include "evergreen/loop/loop_group.h"

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evergreen/loop/task.h"
#include "gtest/gtest.h"

namespace evergreen {
namespace {

using namespace std::chrono_literals;

// Bounded waits: a broken group fails the test instead of hanging it.
constexpr auto kPatience = 20s;

template <class T>
T wait_for(std::future<T>& future) {
  if (future.wait_for(kPatience) != std::future_status::ready) {
    ADD_FAILURE() << "timed out waiting for the group";
    std::abort();  // the group's threads would reference this test's frame
  }
  return future.get();
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

std::string this_thread_name() {
  char name[32] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

struct Seen {
  bool in_task = false;
  LoopGroup* group = nullptr;
  size_t index = 0;
  std::thread::id thread;
  std::string name;
};

Seen look_around() {
  return Seen{Task::current() != nullptr, LoopGroup::current(), LoopGroup::current_index(),
              std::this_thread::get_id(), this_thread_name()};
}

TEST(LoopGroupTest, PostRunsTheFunctionInATaskOnTheChosenLoop) {
  LoopGroup group(3);
  ASSERT_EQ(group.size(), 3u);
  std::set<std::thread::id> threads;
  for (size_t i = 0; i < group.size(); ++i) {
    std::promise<Seen> seen;
    auto result = seen.get_future();
    group.post(i, [&] { seen.set_value(look_around()); });
    Seen got = wait_for(result);
    EXPECT_TRUE(got.in_task);
    EXPECT_EQ(got.group, &group);
    EXPECT_EQ(got.index, i);
    EXPECT_NE(got.thread, std::this_thread::get_id());
    threads.insert(got.thread);
  }
  EXPECT_EQ(threads.size(), 3u) << "each loop has a thread of its own";
}

TEST(LoopGroupTest, PostEachRunsACopyOnEveryLoopWithItsIndex) {
  LoopGroup group(4);
  std::mutex mutex;
  std::vector<size_t> indices;
  std::promise<void> all;
  group.post_each([&](size_t i) {
    EXPECT_EQ(LoopGroup::current_index(), i);
    std::lock_guard<std::mutex> lock(mutex);
    indices.push_back(i);
    if (indices.size() == 4) all.set_value();
  });
  auto done = all.get_future();
  wait_for(done);
  std::sort(indices.begin(), indices.end());
  EXPECT_EQ(indices, (std::vector<size_t>{0, 1, 2, 3}));
}

TEST(LoopGroupTest, ThreadsAreNamedAfterTheGroupAndShortenedToFifteenCharacters) {
  {
    LoopGroup group(2);
    std::promise<Seen> seen;
    auto result = seen.get_future();
    group.post(1, [&] { seen.set_value(look_around()); });
    EXPECT_EQ(wait_for(result).name, "evergreen-1");
  }
  LoopGroupOptions options;
  options.name = "averyverylongname";
  LoopGroup group(12, options);
  std::promise<Seen> seen;
  auto result = seen.get_future();
  group.post(11, [&] { seen.set_value(look_around()); });
  EXPECT_EQ(wait_for(result).name, "averyverylon-11");
}

TEST(LoopGroupTest, ZeroThreadsMeansOnePerAllowedCpu) {
  LoopGroup group;
  EXPECT_EQ(group.size(), allowed_cpus().size());
}

TEST(LoopGroupTest, PinnedThreadsRunOnTheirAllowedCpu) {
  std::vector<int> cpus = allowed_cpus();
  LoopGroupOptions options;
  options.pin_threads = true;
  size_t threads = cpus.size() + 1;  // the last wraps around to the first CPU
  LoopGroup group(threads, options);
  for (size_t i = 0; i < threads; ++i) {
    std::promise<std::vector<int>> affinity;
    auto result = affinity.get_future();
    group.post(i, [&] { affinity.set_value(allowed_cpus()); });
    EXPECT_EQ(wait_for(result), std::vector<int>{cpus[i % cpus.size()]}) << "thread " << i;
  }
}

TEST(LoopGroupTest, UnpinnedThreadsKeepTheProcessAffinity) {
  LoopGroup group(1);
  std::promise<std::vector<int>> affinity;
  auto result = affinity.get_future();
  group.post(0, [&] { affinity.set_value(allowed_cpus()); });
  EXPECT_EQ(wait_for(result), allowed_cpus());
}

// Counts its destruction: proof that a killed task unwound.
struct Unwound {
  std::atomic<int>* count;
  ~Unwound() { ++*count; }
};

TEST(LoopGroupTest, StopKillsTheRemainingTasksAndJoinWaitsForTheThreads) {
  std::atomic<int> unwound{0};
  std::atomic<int> saw_task_exit{0};
  LoopGroup group(2);
  std::promise<void> started0, started1;
  auto blocked = [&](std::promise<void>& started) {
    return [&] {
      Unwound guard{&unwound};
      started.set_value();
      try {
        sleep(1h);
      } catch (const TaskExit&) {
        ++saw_task_exit;
        throw;
      }
    };
  };
  group.post(0, blocked(started0));
  group.post(1, blocked(started1));
  auto f0 = started0.get_future(), f1 = started1.get_future();
  wait_for(f0);
  wait_for(f1);
  group.stop();
  group.stop();  // idempotent
  group.join();
  EXPECT_EQ(unwound.load(), 2);
  EXPECT_EQ(saw_task_exit.load(), 2);
  group.join();  // again: returns at once
}

TEST(LoopGroupTest, TheDestructorStopsAndJoins) {
  std::atomic<int> unwound{0};
  {
    LoopGroup group(2);
    std::promise<void> started;
    group.post(1, [&] {
      Unwound guard{&unwound};
      started.set_value();
      sleep(1h);
    });
    auto f = started.get_future();
    wait_for(f);
  }
  EXPECT_EQ(unwound.load(), 1);
}

TEST(LoopGroupTest, StopFromOneOfTheGroupsTasks) {
  LoopGroup group(2);
  std::atomic<int> unwound{0};
  std::promise<void> started;
  group.post(0, [&] {
    Unwound guard{&unwound};
    started.set_value();
    sleep(1h);
  });
  auto f = started.get_future();
  wait_for(f);
  group.post(1, [&] { group.stop(); });
  group.join();
  EXPECT_EQ(unwound.load(), 1);
  EXPECT_THROW(group.post(0, [] {}), std::runtime_error);
}

TEST(LoopGroupTest, PostToAnIndexOutOfRangeThrowsOutOfRange) {
  LoopGroup group(2);
  try {
    group.post(2, [] {});
    FAIL() << "expected std::out_of_range";
  } catch (const std::out_of_range& error) {
    EXPECT_NE(std::string(error.what()).find("post(2)"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("2 loops"), std::string::npos) << error.what();
  }
}

TEST(LoopGroupTest, PostAfterStopThrowsRuntimeError) {
  LoopGroup group(1);
  group.stop();
  try {
    group.post(0, [] {});
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("stopped"), std::string::npos) << error.what();
  }
  EXPECT_THROW(group.post_each([](size_t) {}), std::runtime_error);
}

TEST(LoopGroupTest, JoinFromOneOfTheGroupsThreadsThrowsLogicError) {
  LoopGroup group(2);
  std::promise<std::string> outcome;
  auto result = outcome.get_future();
  group.post(1, [&] {
    try {
      group.join();
      outcome.set_value("returned");
    } catch (const std::logic_error& error) {
      outcome.set_value(error.what());
    }
  });
  std::string message = wait_for(result);
  EXPECT_NE(message.find("thread 1"), std::string::npos) << message;
  EXPECT_NE(message.find("cannot wait for itself"), std::string::npos) << message;
}

TEST(LoopGroupTest, CurrentIsNullAndCurrentIndexThrowsOffTheGroup) {
  LoopGroup group(1);
  EXPECT_EQ(LoopGroup::current(), nullptr);
  EXPECT_THROW(LoopGroup::current_index(), std::logic_error);
}

TEST(LoopGroupTest, AnExceptionEscapingAPostedFunctionIsReportedAndTheLoopGoesOn) {
  testing::internal::CaptureStderr();
  {
    LoopGroup group(1);
    group.post(0, [] { throw std::runtime_error("posted function failed"); });
    std::promise<void> after;
    group.post(0, [&] { after.set_value(); });
    auto f = after.get_future();
    wait_for(f);
  }
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("posted function failed"), std::string::npos) << err;
}

TEST(LoopGroupTest, PostsFromOneThreadStartInOrderWhileManyThreadsPost) {
  LoopGroup group(1);
  // Each post starts a task: kept small, as TSan makes fiber creation slow.
  constexpr int kPerThread = 300;
  std::vector<std::pair<int, int>> seen;  // touched only on loop 0
  std::promise<void> all;
  auto poster = [&](int who) {
    for (int n = 0; n < kPerThread; ++n) {
      group.post(0, [&, who, n] {
        seen.emplace_back(who, n);
        if (seen.size() == 3 * kPerThread) all.set_value();
      });
    }
  };
  std::thread a(poster, 0), b(poster, 1), c(poster, 2);
  a.join();
  b.join();
  c.join();
  auto f = all.get_future();
  wait_for(f);
  int next[3] = {0, 0, 0};
  for (auto [who, n] : seen) {
    ASSERT_EQ(n, next[who]) << "thread " << who;
    ++next[who];
  }
}

TEST(LoopGroupTest, ALoopThatCannotBeCreatedMakesTheConstructorThrow) {
  setenv("EVERGREEN_BACKEND", "no-such-backend", 1);
  EXPECT_THROW(LoopGroup group(3), std::invalid_argument);
  unsetenv("EVERGREEN_BACKEND");
}

}  // namespace
}  // namespace evergreen
