// Patched poll/select/epoll_wait: in tasks they park only the caller; the
// results are exactly what the real calls report; outside tasks they block
// the thread.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "evergreen/io/errors.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/task.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"
#include "patch_test_support.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::PatchedTest;
using testing::Stopwatch;

// The number of fds the process has open, not counting the one reading
// /proc/self/fd holds while it does.
int open_fd_count() {
  DIR* directory = ::opendir("/proc/self/fd");
  if (directory == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = ::readdir(directory)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(directory);
  return count - 1;
}

class SelectTest : public PatchedTest {
 protected:
  // A connected pair of sockets, closed at the end of the test.
  std::pair<int, int> socket_pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    opened_.push_back(fds[0]);
    opened_.push_back(fds[1]);
    return {fds[0], fds[1]};
  }
  void TearDown() override {
    for (int fd : opened_) ::close(fd);
    PatchedTest::TearDown();
  }

 private:
  std::vector<int> opened_;
};

TEST_F(SelectTest, PollWithoutFdsIsASleepThatInterleaves) {
  Stopwatch stopwatch;
  int ticks = 0;
  for (int i = 0; i < 5; ++i) {
    spawn([&] {
      EXPECT_EQ(::poll(nullptr, 0, 200), 0);
      ++ticks;
    });
  }
  loop().run();
  EXPECT_EQ(ticks, 5);
  EXPECT_LT(stopwatch.seconds(), 0.6);
}

TEST_F(SelectTest, PollWakesWhenDataArrivesWhileOthersRun) {
  auto [reader, writer] = socket_pair();
  pollfd entry{reader, POLLIN, 0};
  int ready = -1;
  std::vector<std::string> order;
  spawn([&] {
    ready = ::poll(&entry, 1, 5000);
    order.push_back("poll returned");
  });
  spawn([&, writer = writer] {
    order.push_back("writer runs while poll waits");
    ::usleep(50'000);
    ASSERT_EQ(::write(writer, "x", 1), 1);
  });
  Stopwatch stopwatch;
  loop().run();
  EXPECT_EQ(ready, 1);
  EXPECT_EQ(entry.revents, POLLIN);
  EXPECT_LT(stopwatch.seconds(), 1.0);
  EXPECT_EQ(order, (std::vector<std::string>{"writer runs while poll waits", "poll returned"}));
}

TEST_F(SelectTest, PollTimesOutWithZeroAndClearedEvents) {
  auto [reader, writer] = socket_pair();
  (void)writer;
  pollfd entry{reader, POLLIN, static_cast<short>(0x7fff)};
  int ready = -1;
  Stopwatch stopwatch;
  spawn([&] { ready = ::poll(&entry, 1, 100); });
  loop().run();
  EXPECT_EQ(ready, 0);
  EXPECT_EQ(entry.revents, 0);
  EXPECT_GE(stopwatch.elapsed(), 100ms);
}

TEST_F(SelectTest, PollReportsBadFdsAndHangUpsLikeLibc) {
  auto [reader, writer] = socket_pair();
  int bad_ready = -1, hang_up_ready = -1;
  pollfd entries[2] = {{reader, POLLIN, 0}, {999, POLLIN, 0}};
  pollfd hang_up{reader, POLLIN, 0};
  spawn([&] { bad_ready = ::poll(entries, 2, 1000); });
  spawn([&] { hang_up_ready = ::poll(&hang_up, 1, 5000); });
  spawn([&, writer = writer] {
    ::usleep(20'000);
    ::shutdown(writer, SHUT_WR);
  });
  loop().run();
  EXPECT_EQ(bad_ready, 1);
  EXPECT_EQ(entries[1].revents, POLLNVAL);
  EXPECT_EQ(hang_up_ready, 1);
  EXPECT_TRUE(hang_up.revents & (POLLIN | POLLHUP));
}

TEST_F(SelectTest, SelectInTasksInterleavesAndReportsReadyFds) {
  auto [reader, writer] = socket_pair();
  int ready = -1;
  bool reader_set = false;
  timeval timeout{5, 0};
  spawn([&, reader = reader] {
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(reader, &readable);
    ready = ::select(reader + 1, &readable, nullptr, nullptr, &timeout);
    reader_set = FD_ISSET(reader, &readable);
  });
  int ticks = 0;
  spawn([&, writer = writer] {
    for (int i = 0; i < 5; ++i) {
      ::usleep(10'000);
      ++ticks;
    }
    ASSERT_EQ(::send(writer, "y", 1, 0), 1);
  });
  loop().run();
  EXPECT_EQ(ticks, 5);
  EXPECT_EQ(ready, 1);
  EXPECT_TRUE(reader_set);
  // Linux reports the time left.
  EXPECT_EQ(timeout.tv_sec, 4);
}

TEST_F(SelectTest, SelectTimeoutClearsTheSets) {
  auto [reader, writer] = socket_pair();
  (void)writer;
  int ready = -1;
  bool still_set = true;
  spawn([&, reader = reader] {
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(reader, &readable);
    timeval timeout{0, 50'000};
    ready = ::select(reader + 1, &readable, nullptr, nullptr, &timeout);
    still_set = FD_ISSET(reader, &readable);
  });
  loop().run();
  EXPECT_EQ(ready, 0);
  EXPECT_FALSE(still_set);
}

TEST_F(SelectTest, SelectRejectsBadInputLikeLibc) {
  int bad_nfds = 0, bad_nfds_errno = 0, bad_fd = 0, bad_fd_errno = 0;
  spawn([&] {
    timeval timeout{1, 0};
    bad_nfds = ::select(-1, nullptr, nullptr, nullptr, &timeout);
    bad_nfds_errno = errno;
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(900, &readable);
    bad_fd = ::select(901, &readable, nullptr, nullptr, &timeout);
    bad_fd_errno = errno;
  });
  loop().run();
  EXPECT_EQ(bad_nfds, -1);
  EXPECT_EQ(bad_nfds_errno, EINVAL);
  EXPECT_EQ(bad_fd, -1);
  EXPECT_EQ(bad_fd_errno, EBADF);
}

TEST_F(SelectTest, EpollWaitOnTheProgramsOwnEpollFd) {
  auto [reader, writer] = socket_pair();
  int epfd = ::epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(epfd, 0);
  epoll_event interest{};
  interest.events = EPOLLIN;
  interest.data.u64 = 42;
  ASSERT_EQ(::epoll_ctl(epfd, EPOLL_CTL_ADD, reader, &interest), 0);
  epoll_event got[4];
  int ready = -1;
  int ticks = 0;
  spawn([&] { ready = ::epoll_wait(epfd, got, 4, 5000); });
  spawn([&, writer = writer] {
    for (int i = 0; i < 3; ++i) {
      ::usleep(10'000);
      ++ticks;
    }
    ASSERT_EQ(::write(writer, "z", 1), 1);
  });
  loop().run();
  EXPECT_EQ(ticks, 3);
  ASSERT_EQ(ready, 1);
  EXPECT_EQ(got[0].data.u64, 42u);
  int bad = ::epoll_wait(epfd, got, 0, 10);  // outside a task: libc's EINVAL
  EXPECT_EQ(bad, -1);
  EXPECT_EQ(errno, EINVAL);
  ::close(epfd);
}

TEST_F(SelectTest, OutsideTasksPollBlocksTheThread) {
  bool task_ran = false;
  spawn([&] { task_ran = true; });
  Stopwatch stopwatch;
  EXPECT_EQ(::poll(nullptr, 0, 100), 0);
  EXPECT_GE(stopwatch.elapsed(), 100ms);
  EXPECT_FALSE(task_ran);
  loop().run();
  EXPECT_TRUE(task_ran);
}

TEST_F(SelectTest, KilledWhilePollingFailsWithEcanceledAndTheKillIsRaisedLater) {
  auto [reader, writer] = socket_pair();
  (void)writer;
  int result = 0, error = 0;
  bool after_sleep = false;
  auto victim = spawn([&, reader = reader] {
    pollfd entry{reader, POLLIN, 0};
    result = ::poll(&entry, 1, -1);
    error = errno;
    sleep(10s);  // raises the pending kill at once
    after_sleep = true;
  });
  spawn([&] {
    sleep(10ms);
    victim->kill();
  });
  Stopwatch stopwatch;
  loop().run();
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, ECANCELED);
  EXPECT_FALSE(after_sleep);
  EXPECT_LT(stopwatch.seconds(), 1.0);
}

TEST_F(SelectTest, ManyTasksPollOneFd) {
  auto [reader, writer] = socket_pair();
  int woken = 0;
  for (int i = 0; i < 20; ++i) {
    spawn([&, reader = reader] {
      pollfd entry{reader, POLLIN, 0};
      if (::poll(&entry, 1, 5000) == 1) ++woken;
    });
  }
  spawn([&, writer = writer] {
    ::usleep(20'000);
    ASSERT_EQ(::write(writer, "w", 1), 1);
  });
  loop().run();
  EXPECT_EQ(woken, 20);
}

TEST_F(SelectTest, PollSharesTheLoopsWatchOfAnFdWithAnAddReaderCallback) {
  // The loop watches each fd once, whoever asks: a poll() on an fd an
  // add_reader() callback watches joins that watch (no dup of the fd), and
  // both hear of the data.
  auto [reader, writer] = socket_pair();
  int callback_calls = 0;
  loop().add_reader(reader, [&, reader = reader] {
    ++callback_calls;
    loop().remove_reader(reader);
  });
  int ready = -1;
  int fds_before = -1;
  int fds_while_polling = -2;
  spawn([&, reader = reader] {
    fds_before = open_fd_count();
    pollfd entry{reader, POLLIN, 0};
    ready = ::poll(&entry, 1, 5000);
  });
  spawn([&, writer = writer] {
    ::usleep(20'000);
    fds_while_polling = open_fd_count();
    ASSERT_EQ(::write(writer, "w", 1), 1);
  });
  loop().run();
  EXPECT_EQ(ready, 1);
  EXPECT_EQ(callback_calls, 1);
  EXPECT_EQ(fds_while_polling, fds_before);
}

TEST_F(SelectTest, PollOnAnFdAnIoStreamWatches) {
  // The stream and the patched poll() are two listeners of one registry
  // entry: no second kernel registration, so no EEXIST and no dup().
  // The server's side of the connection lives from before the count to
  // after it (accepted before, kept until the client closes), whichever
  // backend completes the accept first.
  bool accepted = false;
  io::TCPServer server([&](std::shared_ptr<io::StreamConnection> connection) {
    accepted = true;
    sleep(30ms);
    connection->write("late\n");
    connection->flush();
    connection->read_bytes(1);  // until the client closes
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });
  int ready = -1;
  int fds_before = -1;
  int fds_after = -2;
  std::string line;
  spawn([&] {
    io::TCPClient client;
    client.connect(server.sockname());
    for (int i = 0; i < 1000 && !accepted; ++i) sleep(1ms);
    pollfd entry{client.fileno(), POLLIN, 0};
    fds_before = open_fd_count();
    ready = ::poll(&entry, 1, 5000);
    fds_after = open_fd_count();
    line = client.read_until("\n");
    server.close();
  });
  loop().run();
  EXPECT_EQ(ready, 1);
  EXPECT_EQ(fds_after, fds_before);
  EXPECT_EQ(line, "late\n");
}

TEST_F(SelectTest, LibSelectWorksWithoutRelyingOnInterposition) {
  Stopwatch stopwatch;
  for (int i = 0; i < 4; ++i) spawn([] { lib::select::poll(nullptr, 0, 200); });
  loop().run();
  EXPECT_LT(stopwatch.seconds(), 0.5);  // one after another: 0.8 s
}

}  // namespace
}  // namespace evergreen
