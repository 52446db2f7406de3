// The Poller contract (poller.h) on both backends: edge- and level-triggered
// readiness, removal that drops events already queued and lets close() close
// the file at once, modify() following a reused fd number, refusal of files
// that never block, and, on io_uring, a completion queue that overflows.
#include "evergreen/loop/internal/poller.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "evergreen/loop/internal/poller_epoll.h"
#include "evergreen/loop/internal/poller_io_uring.h"
#include "gtest/gtest.h"

namespace evergreen::internal {
namespace {

struct Pipe {
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2: " << errno;
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    if (read >= 0) ::close(read);
    if (write >= 0) ::close(write);
  }
  void put() const { ASSERT_EQ(::write(write, "x", 1), 1); }
  void drain() const {
    char buffer[64];
    while (::read(read, buffer, sizeof buffer) > 0) {
    }
  }
  int read = -1;
  int write = -1;
};

struct Recorder : PollHandler {
  void on_poll_events(uint32_t events) override {
    ++calls;
    last = events;
    if (then) then(events);
  }
  int calls = 0;
  uint32_t last = 0;
  std::function<void(uint32_t)> then;
};

enum class Kind { kEpoll, kIoUring };

class PollerTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kEpoll) {
      poller = std::make_unique<EpollPoller>();
      return;
    }
    try {
      poller = std::make_unique<IoUringPoller>();
    } catch (const std::system_error& error) {
      GTEST_SKIP() << "this kernel refuses io_uring: " << error.what();
    }
  }

  std::unique_ptr<Poller> poller;
};

TEST_P(PollerTest, EdgeTriggeredReportsEachChangeOnce) {
  Pipe pipe;
  Recorder recorder;
  poller->add(pipe.read, kPollIn | kPollEdgeTriggered, &recorder);
  EXPECT_EQ(poller->poll(0), 0);
  pipe.put();
  EXPECT_EQ(poller->poll(1000), 1);
  EXPECT_TRUE(recorder.last & kPollIn);
  // Still readable, but nothing changed.
  EXPECT_EQ(poller->poll(0), 0);
  EXPECT_EQ(poller->poll(0), 0);
  pipe.put();
  EXPECT_EQ(poller->poll(1000), 1);
  EXPECT_EQ(recorder.calls, 2);
}

TEST_P(PollerTest, LevelTriggeredReportsWhileReady) {
  Pipe pipe;
  Recorder recorder;
  poller->add(pipe.read, kPollIn, &recorder);
  EXPECT_EQ(poller->poll(0), 0);
  pipe.put();
  EXPECT_EQ(poller->poll(1000), 1);
  EXPECT_EQ(poller->poll(1000), 1);
  EXPECT_EQ(poller->poll(1000), 1);
  EXPECT_EQ(recorder.calls, 3);
  pipe.drain();
  EXPECT_EQ(poller->poll(0), 0);
  EXPECT_EQ(recorder.calls, 3);
}

TEST_P(PollerTest, ReportsPeerCloseAndHangUp) {
  Pipe pipe;
  Recorder recorder;
  poller->add(pipe.read, kPollIn | kPollPeerClosed | kPollEdgeTriggered, &recorder);
  ::close(pipe.write);
  pipe.write = -1;
  EXPECT_EQ(poller->poll(1000), 1);
  EXPECT_TRUE(recorder.last & kPollHangUp);
}

TEST_P(PollerTest, AWriteFromAnotherThreadEndsAnUnboundedWait) {
  int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(wake, 0);
  Recorder recorder;
  poller->add(wake, kPollIn, &recorder);
  std::thread waker([wake] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    uint64_t one = 1;
    EXPECT_EQ(::write(wake, &one, sizeof one), 8);
  });
  // A wait may also end early (EINTR: the kernel had work to run for this
  // thread, e.g. an earlier test's ring being torn down); never late.
  for (int i = 0; i < 1000 && recorder.calls == 0; ++i) poller->poll(-1);
  waker.join();
  EXPECT_TRUE(recorder.last & kPollIn);
  ::close(wake);
}

TEST_P(PollerTest, RemovalDropsEventsOfTheSameBatch) {
  Pipe first, second;
  Recorder first_recorder, second_recorder;
  Poller::Token second_token = 0;
  int second_fd = second.read;
  first_recorder.then = [&](uint32_t) { poller->remove(second_token, second_fd); };
  second_recorder.then = [&](uint32_t) { poller->remove(second_token, second_fd); };
  // Whichever is delivered first removes the second one.
  poller->add(first.read, kPollIn | kPollEdgeTriggered, &first_recorder);
  second_token = poller->add(second.read, kPollIn | kPollEdgeTriggered, &second_recorder);
  first.put();
  second.put();
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  poller->poll(1000);
  poller->poll(0);
  // The second is told at most once (if it came first), never after removal.
  EXPECT_LE(second_recorder.calls, 1);
  second.put();
  EXPECT_EQ(poller->poll(0), 0);
  EXPECT_LE(second_recorder.calls, 1);
  EXPECT_EQ(poller->size(), 1u);
}

TEST_P(PollerTest, CloseAfterRemoveClosesTheFileAtOnceEvenIfArmedInTheSameTurn) {
  // Added and removed with no poll() between: on io_uring the poll and its
  // cancellation reach the kernel together, while the poll of the ready fd
  // is completing.
  for (int i = 0; i < 50; ++i) {
    Pipe pipe;
    Recorder recorder;
    Poller::Token token = poller->add(pipe.write, kPollOut | kPollEdgeTriggered, &recorder);
    poller->remove(token, pipe.write);
    ::close(pipe.write);
    pipe.write = -1;
    char byte;
    ASSERT_EQ(::read(pipe.read, &byte, 1), 0) << "round " << i << ", errno " << errno;
  }
}

TEST_P(PollerTest, CloseAfterRemoveClosesTheFileAtOnce) {
  Pipe pipe;
  Recorder recorder;
  Poller::Token token = poller->add(pipe.write, kPollOut | kPollEdgeTriggered, &recorder);
  poller->poll(0);
  poller->remove(token, pipe.write);
  ::close(pipe.write);
  pipe.write = -1;
  // No poll() in between: the poller must not keep the pipe's write end open.
  char byte;
  EXPECT_EQ(::read(pipe.read, &byte, 1), 0) << "errno " << errno;
}

TEST_P(PollerTest, ModifyFollowsAReusedFdNumber) {
  Pipe old_pipe, new_pipe;
  Recorder recorder;
  int number = old_pipe.read;
  Poller::Token token = poller->add(number, kPollIn | kPollEdgeTriggered, &recorder);
  poller->poll(0);
  // The number now names the new pipe's read end.
  ASSERT_EQ(::dup2(new_pipe.read, number), number);
  try {
    poller->modify(token, number, kPollIn | kPollEdgeTriggered);
  } catch (const std::system_error& error) {
    // epoll: the registration went with the old file; a new one is needed.
    ASSERT_EQ(GetParam(), Kind::kEpoll) << error.what();
    ASSERT_EQ(error.code().value(), ENOENT);
    poller->remove(token, number);
    token = poller->add(number, kPollIn | kPollEdgeTriggered, &recorder);
  }
  poller->poll(0);
  int calls = recorder.calls;
  new_pipe.put();
  EXPECT_EQ(poller->poll(1000), 1);
  EXPECT_EQ(recorder.calls, calls + 1);
  poller->remove(token, number);
}

TEST_P(PollerTest, RefusesFilesThatNeverBlockAndClosedFds) {
  char path[] = "/tmp/poller_test_XXXXXX";
  int file = ::mkstemp(path);
  ASSERT_GE(file, 0);
  ::unlink(path);
  Recorder recorder;
  try {
    poller->add(file, kPollIn, &recorder);
    ADD_FAILURE() << "a regular file was accepted";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EPERM);
    EXPECT_NE(std::string(error.what()).find(std::to_string(file)), std::string::npos);
  }
  ::close(file);
  int null_device = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(null_device, 0);
  try {
    poller->add(null_device, kPollIn | kPollEdgeTriggered, &recorder);
    ADD_FAILURE() << "/dev/null, which never blocks, was accepted";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EPERM);
  }
  ::close(null_device);
  try {
    poller->add(file, kPollIn, &recorder);
    ADD_FAILURE() << "a closed fd was accepted";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), EBADF);
  }
  EXPECT_EQ(poller->size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, PollerTest, ::testing::Values(Kind::kEpoll, Kind::kIoUring),
                         [](const auto& info) {
                           return info.param == Kind::kEpoll ? "Epoll" : "IoUring";
                         });

// More completions at once than the completion queue holds: the kernel keeps
// the rest (IORING_FEAT_NODROP) and multishot polls it had to end are armed
// again, so every registration is still told, and told again later.
TEST(IoUringPollerTest, ACompletionQueueOverflowLosesNoEvent) {
  std::unique_ptr<IoUringPoller> poller;
  try {
    poller = std::make_unique<IoUringPoller>();
  } catch (const std::system_error& error) {
    GTEST_SKIP() << "this kernel refuses io_uring: " << error.what();
  }
  int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(wake, 0);
  // The completion queue holds 8 per entry; register well beyond that.
  const size_t count = poller->ring_entries() * 8 * 2;
  std::vector<Recorder> recorders(count);
  for (auto& recorder : recorders) poller->add(wake, kPollIn | kPollEdgeTriggered, &recorder);
  poller->poll(0);
  for (int round = 0; round < 2; ++round) {
    uint64_t one = 1;
    ASSERT_EQ(::write(wake, &one, sizeof one), 8);
    for (int i = 0; i < 100; ++i) {
      poller->poll(10);
      bool all = true;
      for (auto& recorder : recorders) all = all && recorder.calls > round;
      if (all) break;
    }
    size_t told = 0;
    for (auto& recorder : recorders) told += recorder.calls > round ? 1 : 0;
    EXPECT_EQ(told, count) << "round " << round;
  }
  ::close(wake);
}

// The set-up policy, with made-up kernel answers.
TEST(IoUringSetUpTest, DropsNewerFlagsOnEinvalAndShrinksOnEnomem) {
  std::vector<std::pair<unsigned, unsigned>> attempts;
  std::string reason;
  int result = set_up_ring(
      [&](unsigned entries, unsigned flags) {
        attempts.emplace_back(entries, flags);
        if (flags != 0) return -EINVAL;
        if (entries > 32) return -ENOMEM;
        return 0;
      },
      256, 8, 0x700, reason);
  EXPECT_EQ(result, 0);
  ASSERT_EQ(attempts.size(), 5u);
  EXPECT_EQ(attempts[0], std::make_pair(256u, 0x700u));
  EXPECT_EQ(attempts[1], std::make_pair(256u, 0u));
  EXPECT_EQ(attempts[2], std::make_pair(128u, 0u));
  EXPECT_EQ(attempts[4], std::make_pair(32u, 0u));
  EXPECT_TRUE(reason.empty());
}

// Newest flags first (deferred task running), then the older ones, then none.
TEST(IoUringSetUpTest, TriesEachSetOfNewerFlagsInTurn) {
  std::vector<unsigned> tried;
  std::string reason;
  int result = set_up_ring(
      [&](unsigned, unsigned flags) {
        tried.push_back(flags);
        return (flags & 0x3000) != 0 ? -EINVAL : 0;
      },
      256, 8, std::vector<unsigned>{0x3700, 0x700}, reason);
  EXPECT_EQ(result, 0);
  EXPECT_EQ(tried, (std::vector<unsigned>{0x3700, 0x700}));
  tried.clear();
  result = set_up_ring(
      [&](unsigned, unsigned flags) {
        tried.push_back(flags);
        return flags != 0 ? -EINVAL : 0;
      },
      256, 8, std::vector<unsigned>{0x3700, 0x700}, reason);
  EXPECT_EQ(result, 0);
  EXPECT_EQ(tried, (std::vector<unsigned>{0x3700, 0x700, 0}));
}

// On a kernel that has it (6.1), the loop's ring defers completion work to
// its own io_uring_enter and names a single submitter.
TEST(IoUringSetUpTest, TheRingDefersCompletionWorkWhereTheKernelAllows) {
  std::unique_ptr<IoUringPoller> poller;
  try {
    poller = std::make_unique<IoUringPoller>();
  } catch (const std::system_error& error) {
    GTEST_SKIP() << "no io_uring here: " << error.what();
  }
  unsigned flags = poller->ring_flags();
  if (!(flags & IORING_SETUP_SUBMIT_ALL)) GTEST_SKIP() << "an older kernel";
  io_uring_params probe{};
  probe.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  io_uring ring{};
  if (io_uring_queue_init_params(4, &ring, &probe) != 0) {
    GTEST_SKIP() << "the kernel refuses IORING_SETUP_DEFER_TASKRUN";
  }
  io_uring_queue_exit(&ring);
  EXPECT_TRUE(flags & IORING_SETUP_DEFER_TASKRUN);
  EXPECT_TRUE(flags & IORING_SETUP_SINGLE_ISSUER);
}

TEST(IoUringSetUpTest, StopsAtARefusalAndSaysWhy) {
  int calls = 0;
  std::string reason;
  int result = set_up_ring([&](unsigned, unsigned) { ++calls; return -EPERM; }, 256, 8, 0x700,
                           reason);
  EXPECT_EQ(result, -EPERM);
  EXPECT_EQ(calls, 1);
  EXPECT_NE(reason.find("seccomp"), std::string::npos) << reason;
}

TEST(IoUringSetUpTest, GivesUpWhenEvenTheSmallestRingIsTooBig) {
  std::vector<unsigned> sizes;
  std::string reason;
  int result = set_up_ring([&](unsigned entries, unsigned) {
    sizes.push_back(entries);
    return -ENOMEM;
  }, 64, 8, 0, reason);
  EXPECT_EQ(result, -ENOMEM);
  EXPECT_EQ(sizes, (std::vector<unsigned>{64, 32, 16, 8}));
  EXPECT_NE(reason.find("locked-memory"), std::string::npos) << reason;
}

}  // namespace
}  // namespace evergreen::internal
