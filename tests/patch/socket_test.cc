// Patched socket and pipe calls: blocking semantics kept, only the calling
// task parked; the O_NONBLOCK the program sees is the one it set; socket
// timeouts honoured; other fds and other contexts go to libc.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"
#include "patch_test_support.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::PatchedTest;
using testing::Stopwatch;

class SocketTest : public PatchedTest {
 protected:
  void TearDown() override {
    for (int fd : opened_) ::close(fd);
    PatchedTest::TearDown();
  }
  int track(int fd) {
    opened_.push_back(fd);
    return fd;
  }
  std::pair<int, int> socket_pair(int type = SOCK_STREAM) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds), 0);
    return {track(fds[0]), track(fds[1])};
  }
  // A listening TCP socket on an ephemeral loopback port; returns (fd, port).
  std::pair<int, uint16_t> listener() {
    int fd = track(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(fd, 64), 0);
    socklen_t length = sizeof address;
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
    return {fd, ntohs(address.sin_port)};
  }
  static sockaddr_in loopback(uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return address;
  }
  // The file status flags as the kernel has them, bypassing the patch.
  static int real_flags(int fd) { return patch::original::fcntl(fd, F_GETFL); }

 private:
  std::vector<int> opened_;
};

TEST_F(SocketTest, BlockingReadParksOnlyTheTask) {
  auto [reader, writer] = socket_pair();
  std::vector<std::string> order;
  char buffer[16] = {};
  ssize_t got = -1;
  spawn([&, reader = reader] {
    got = ::read(reader, buffer, sizeof buffer);
    order.push_back("read returned");
  });
  spawn([&, writer = writer] {
    order.push_back("writer ran");
    ::usleep(30'000);
    ASSERT_EQ(::write(writer, "hello", 5), 5);
  });
  loop().run();
  EXPECT_EQ(got, 5);
  EXPECT_EQ(std::string(buffer, 5), "hello");
  EXPECT_EQ(order, (std::vector<std::string>{"writer ran", "read returned"}));
}

TEST_F(SocketTest, SuccessAfterWaitingLeavesErrnoAlone) {
  auto [reader, writer] = socket_pair();
  int seen = 0;
  spawn([&, reader = reader] {
    errno = 777;
    char buffer[4];
    ASSERT_EQ(::read(reader, buffer, sizeof buffer), 2);  // after an EAGAIN and a wait
    seen = errno;
  });
  spawn([&, writer = writer] {
    ::usleep(10'000);
    ASSERT_EQ(::write(writer, "ok", 2), 2);
  });
  loop().run();
  EXPECT_EQ(seen, 777);  // as libc's read leaves it on success
}

TEST_F(SocketTest, TcpConnectAcceptAndEchoBetweenTasks) {
  auto [server, port] = listener();
  std::string echoed;
  spawn([&, server = server] {
    int connection = ::accept(server, nullptr, nullptr);  // blocks this task only
    ASSERT_GE(connection, 0);
    char buffer[64];
    ssize_t got = ::recv(connection, buffer, sizeof buffer, 0);
    ASSERT_GT(got, 0);
    ASSERT_EQ(::send(connection, buffer, static_cast<size_t>(got), 0), got);
    ::close(connection);
  });
  spawn([&, port = port] {
    int client = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(client, 0);
    sockaddr_in address = loopback(port);
    ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::write(client, "ping", 4), 4);
    char buffer[64];
    ssize_t got;
    while ((got = ::read(client, buffer, sizeof buffer)) > 0) echoed.append(buffer, got);
    ::close(client);
  });
  loop().run();
  EXPECT_EQ(echoed, "ping");
}

TEST_F(SocketTest, ConnectionRefusedIsReportedLikeLibc) {
  auto [server, port] = listener();
  ::close(server);  // nothing listens on `port` any more
  int result = 0, error = 0;
  spawn([&, port = port] {
    int client = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback(port);
    result = ::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address);
    error = errno;
    ::close(client);
  });
  loop().run();
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, ECONNREFUSED);
}

TEST_F(SocketTest, ProgramSeesTheNonblockingFlagItSet) {
  spawn([&] {
    int fd = track(::socket(AF_INET, SOCK_STREAM, 0));
    // Non-blocking underneath, blocking as far as the program can tell.
    EXPECT_NE(real_flags(fd) & O_NONBLOCK, 0);
    EXPECT_EQ(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);

    ASSERT_EQ(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    ASSERT_EQ(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK), 0);
    EXPECT_EQ(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(real_flags(fd) & O_NONBLOCK, 0);

    int on = 1;
    ASSERT_EQ(::ioctl(fd, FIONBIO, &on), 0);
    EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    int off = 0;
    ASSERT_EQ(::ioctl(fd, FIONBIO, &off), 0);
    EXPECT_EQ(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(real_flags(fd) & O_NONBLOCK, 0);

    int nonblocking = track(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    EXPECT_NE(::fcntl(nonblocking, F_GETFL) & O_NONBLOCK, 0);
  });
  loop().run();
}

TEST_F(SocketTest, NonblockingCallsStayNonblocking) {
  auto [reader, writer] = socket_pair();
  (void)writer;
  ssize_t got = 0, dontwait = 0;
  int error = 0, dontwait_error = 0;
  spawn([&, reader = reader] {
    char buffer[4];
    dontwait = ::recv(reader, buffer, sizeof buffer, MSG_DONTWAIT);
    dontwait_error = errno;
    ASSERT_EQ(::fcntl(reader, F_SETFL, O_NONBLOCK), 0);
    got = ::read(reader, buffer, sizeof buffer);
    error = errno;
  });
  loop().run();
  EXPECT_EQ(dontwait, -1);
  EXPECT_EQ(dontwait_error, EAGAIN);
  EXPECT_EQ(got, -1);
  EXPECT_EQ(error, EAGAIN);
}

TEST_F(SocketTest, ReceiveTimeoutIsHonouredInATask) {
  auto [reader, writer] = socket_pair();
  (void)writer;
  ssize_t got = 0;
  int error = 0;
  int ticks = 0;
  Stopwatch stopwatch;
  spawn([&, reader = reader] {
    timeval timeout{0, 150'000};
    ASSERT_EQ(::setsockopt(reader, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout), 0);
    char buffer[4];
    got = ::recv(reader, buffer, sizeof buffer, 0);
    error = errno;
  });
  spawn([&] {
    for (int i = 0; i < 5; ++i) {
      ::usleep(10'000);
      ++ticks;
    }
  });
  loop().run();
  EXPECT_EQ(got, -1);
  EXPECT_EQ(error, EAGAIN);
  EXPECT_EQ(ticks, 5);
  EXPECT_GE(stopwatch.elapsed(), 150ms);
  EXPECT_LT(stopwatch.seconds(), 1.0);
}

TEST_F(SocketTest, SendTimeoutEndsABlockedWriteWithWhatWasSent) {
  auto [writer, reader] = socket_pair();
  (void)reader;  // never reads: the write fills the buffers and waits
  ssize_t written = 0;
  Stopwatch stopwatch;
  spawn([&, writer = writer] {
    timeval timeout{0, 100'000};
    ASSERT_EQ(::setsockopt(writer, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout), 0);
    std::string data(16 << 20, 'x');
    written = ::write(writer, data.data(), data.size());
  });
  loop().run();
  // As a blocking write whose timeout expires: the part that went, if any.
  EXPECT_GT(written, 0);
  EXPECT_LT(written, 16 << 20);
  EXPECT_GE(stopwatch.elapsed(), 100ms);
  // Without the timeout the write would never end; the bound is loose
  // because a sanitizer build on a busy 2-core machine took 1.8 s here.
  EXPECT_LT(stopwatch.seconds(), 10.0);
}

TEST_F(SocketTest, OutsideTasksAnAdoptedSocketStillBlocksAndTimesOut) {
  auto [reader, writer] = socket_pair();
  // A task uses the socket first, so it is non-blocking underneath...
  spawn([&, reader = reader] {
    char buffer[1];
    EXPECT_EQ(::recv(reader, buffer, 1, MSG_DONTWAIT), -1);
  });
  loop().run();
  ASSERT_NE(real_flags(reader) & O_NONBLOCK, 0);
  // ...yet outside tasks a read blocks until data comes, as libc's would.
  std::thread late_writer([writer = writer] {
    std::this_thread::sleep_for(50ms);
    ASSERT_EQ(::write(writer, "late", 4), 4);
  });
  Stopwatch stopwatch;
  char buffer[8];
  EXPECT_EQ(::read(reader, buffer, sizeof buffer), 4);
  EXPECT_GE(stopwatch.elapsed(), 40ms);
  late_writer.join();
  // And SO_RCVTIMEO bounds it.
  timeval timeout{0, 80'000};
  ASSERT_EQ(::setsockopt(reader, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout), 0);
  Stopwatch timed;
  EXPECT_EQ(::read(reader, buffer, sizeof buffer), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_GE(timed.elapsed(), 80ms);
}

TEST_F(SocketTest, BlockingWritesSendEverything) {
  auto [left, right] = socket_pair();
  const size_t total = 8 << 20;  // far more than a socket buffer holds
  std::string data(total, 'x');
  for (size_t i = 0; i < total; i += 4096) data[i] = static_cast<char>('a' + (i / 4096) % 26);
  ssize_t written = 0;
  std::string received;
  spawn([&, left = left] {
    written = ::write(left, data.data(), data.size());
    ::shutdown(left, SHUT_WR);
  });
  spawn([&, right = right] {
    std::string buffer(65536, '\0');  // task stacks are small: not on the stack
    ssize_t got;
    while ((got = ::read(right, buffer.data(), buffer.size())) > 0) received.append(buffer, 0, got);
  });
  loop().run();
  EXPECT_EQ(written, static_cast<ssize_t>(total));
  EXPECT_TRUE(received == data);
}

TEST_F(SocketTest, WritevAndWaitallRecvComplete) {
  auto [left, right] = socket_pair();
  std::string first(300'000, 'a'), second(300'000, 'b');
  ssize_t written = 0, got = 0;
  std::string received(first.size() + second.size(), '\0');
  spawn([&, right = right] { got = ::recv(right, received.data(), received.size(), MSG_WAITALL); });
  spawn([&, left = left] {
    iovec vectors[2] = {{first.data(), first.size()}, {second.data(), second.size()}};
    written = ::writev(left, vectors, 2);
  });
  loop().run();
  EXPECT_EQ(written, static_cast<ssize_t>(first.size() + second.size()));
  EXPECT_EQ(got, written);
  EXPECT_TRUE(received == first + second);
}

TEST_F(SocketTest, PipesAreCooperative) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  track(fds[0]);
  track(fds[1]);
  char buffer[8] = {};
  ssize_t got = 0;
  int ticks = 0;
  spawn([&] { got = ::read(fds[0], buffer, sizeof buffer); });
  spawn([&] {
    for (int i = 0; i < 3; ++i) {
      ::usleep(10'000);
      ++ticks;
    }
    ASSERT_EQ(::write(fds[1], "pipe", 4), 4);
  });
  loop().run();
  EXPECT_EQ(got, 4);
  EXPECT_EQ(ticks, 3);
  EXPECT_EQ(::fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);
}

TEST_F(SocketTest, RegularFilesGoStraightToLibc) {
  char path[] = "/tmp/evergreen_patch_test_XXXXXX";
  int fd = track(::mkstemp(path));
  ASSERT_GE(fd, 0);
  ::unlink(path);
  ssize_t written = 0, got = 0;
  char buffer[8] = {};
  spawn([&] {
    written = ::write(fd, "file", 4);
    ::lseek(fd, 0, SEEK_SET);
    got = ::read(fd, buffer, sizeof buffer);
  });
  loop().run();
  EXPECT_EQ(written, 4);
  EXPECT_EQ(got, 4);
  EXPECT_EQ(real_flags(fd) & O_NONBLOCK, 0);  // never touched
}

TEST_F(SocketTest, BadFdsFailLikeLibc) {
  ssize_t got = 0, sent = 0;
  int read_error = 0, send_error = 0, close_result = 0, close_error = 0;
  spawn([&] {
    char buffer[4];
    got = ::read(-1, buffer, sizeof buffer);
    read_error = errno;
    sent = ::send(12345, "x", 1, 0);
    send_error = errno;
    close_result = ::close(-5);
    close_error = errno;
  });
  loop().run();
  EXPECT_EQ(got, -1);
  EXPECT_EQ(read_error, EBADF);
  EXPECT_EQ(sent, -1);
  EXPECT_EQ(send_error, EBADF);
  EXPECT_EQ(close_result, -1);
  EXPECT_EQ(close_error, EBADF);
}

TEST_F(SocketTest, CloseWakesATaskBlockedOnTheFd) {
  auto [reader, writer] = socket_pair();
  (void)writer;
  ssize_t got = 0;
  int error = 0;
  int duplicate = ::dup(reader);
  ASSERT_GE(duplicate, 0);
  spawn([&] {
    char buffer[4];
    got = ::read(duplicate, buffer, sizeof buffer);
    error = errno;
  });
  spawn([&] {
    ::usleep(20'000);
    ::close(duplicate);
  });
  loop().run();
  EXPECT_EQ(got, -1);
  EXPECT_EQ(error, EBADF);
}

TEST_F(SocketTest, CloseLetsEveryWatcherOfTheFdOnTheLoopGo) {
  // close() of an fd both a blocked read and an add_reader() callback watch
  // ends the read and drops the callback.
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  const int closed = pair[0];
  track(pair[1]);
  int callback_calls = 0;
  loop().add_reader(closed, [&] { ++callback_calls; });
  ssize_t got = 0;
  int error = 0;
  spawn([&] {
    char buffer[4];
    got = ::read(closed, buffer, sizeof buffer);
    error = errno;
  });
  bool callback_dropped = false;
  spawn([&] {
    ::usleep(20'000);
    ::close(closed);
    callback_dropped = !loop().remove_reader(closed);
  });
  loop().run();
  EXPECT_EQ(got, -1);
  EXPECT_EQ(error, EBADF);
  EXPECT_TRUE(callback_dropped);
  EXPECT_EQ(callback_calls, 0);
}

TEST_F(SocketTest, AnFdNumberReusedAfterCloseIsWatchedAfresh) {
  // The loop's watch of an fd goes with the file that close() ends: a new
  // socket given the same number is watched for itself, not taken for the
  // old one (whose kernel registration went with it).
  int old_pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, old_pair), 0);
  const int number = old_pair[0];
  track(old_pair[1]);
  int stale_calls = 0;
  loop().add_reader(number, [&] { ++stale_calls; });
  int fresh_calls = 0;
  spawn([&] {
    ::close(number);
    // A new socket under the old number: it may get it anyway (the lowest
    // free one); if not, libc's own dup2 (which tells the loop nothing)
    // moves it there.
    int fresh_pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fresh_pair), 0);
    int fresh = fresh_pair[0];
    int peer = fresh_pair[1];
    if (peer == number) std::swap(fresh, peer);
    if (fresh != number) {
      ASSERT_EQ(patch::original::dup2(fresh, number), number);
      patch::original::close(fresh);
    }
    track(number);
    track(peer);
    loop().add_reader(number, [&] {
      ++fresh_calls;
      loop().remove_reader(number);
    });
    ASSERT_EQ(::write(peer, "x", 1), 1);
    ::usleep(200'000);  // the callback runs meanwhile
    loop().remove_reader(number);  // if it did not: lets run() end
  });
  loop().run();
  EXPECT_EQ(stale_calls, 0);
  EXPECT_EQ(fresh_calls, 1);
}

TEST_F(SocketTest, KillEndsABlockedReadWithEcanceledThenRaises) {
  auto [reader, writer] = socket_pair();
  (void)writer;
  ssize_t first = 0, second = 0;
  int first_error = 0, second_error = 0;
  bool after = false;
  auto victim = spawn([&, reader = reader] {
    char buffer[4];
    first = ::read(reader, buffer, sizeof buffer);
    first_error = errno;
    // While the kill is pending, a socket call that would block fails too,
    // so a library giving up on errors returns to evergreen code...
    second = ::read(reader, buffer, sizeof buffer);
    second_error = errno;
    sleep(10s);  // ...where the kill is raised
    after = true;
  });
  spawn([&] {
    sleep(10ms);
    victim->kill();
  });
  Stopwatch stopwatch;
  loop().run();
  EXPECT_EQ(first, -1);
  EXPECT_EQ(first_error, ECANCELED);
  EXPECT_EQ(second, -1);
  EXPECT_EQ(second_error, ECANCELED);
  EXPECT_FALSE(after);
  EXPECT_LT(stopwatch.seconds(), 1.0);
}

// A Timeout fails the call with ETIMEDOUT, which libraries report as their
// own timeout, and is raised once control is back in evergreen code - even
// though the Timeout's scope ended first: the C code already gave up because
// of it, so it must not be withdrawn.
TEST_F(SocketTest, TimeoutAroundABlockingCallFailsItAndIsRaisedAfterTheScope) {
  auto [reader, writer] = socket_pair();
  (void)writer;
  ssize_t got = 0;
  int error = 0;
  bool fired = false, raised = false;
  spawn([&, reader = reader] {
    {
      Timeout timeout(30ms);
      char buffer[4];
      got = ::recv(reader, buffer, sizeof buffer, 0);
      error = errno;
      fired = timeout.fired();
    }  // cancelled here, after the C call saw it
    raised = testing::timeout_raised_at_next_suspension();
  });
  Stopwatch stopwatch;
  loop().run();
  EXPECT_EQ(got, -1);
  EXPECT_EQ(error, ETIMEDOUT);
  EXPECT_TRUE(fired);
  EXPECT_TRUE(raised);
  EXPECT_LT(stopwatch.seconds(), 5.0);
}

TEST_F(SocketTest, DestroyingTheLoopEndsTasksBlockedInCalls) {
  auto [reader, writer] = socket_pair();
  (void)writer;
  int ended = 0;
  ssize_t got = 0;
  int error = 0;
  spawn([&, reader = reader] {
    char buffer[4];
    got = ::read(reader, buffer, sizeof buffer);  // never satisfied
    error = errno;
    ++ended;
  });
  spawn([&] {
    ::poll(nullptr, 0, -1);  // forever
    ++ended;
  });
  spawn([&] {
    ::sleep(1000);
    ++ended;
  });
  sleep(20ms);  // the main context blocks: the tasks start and park
  loop().destroy();
  EXPECT_EQ(ended, 3);
  EXPECT_EQ(got, -1);
  EXPECT_EQ(error, ECANCELED);
}

TEST_F(SocketTest, OtherThreadsWithoutALoopAreUntouched) {
  auto [reader, writer] = socket_pair();
  ssize_t got = 0;
  std::thread other([&, reader = reader] {
    char buffer[4];
    got = ::read(reader, buffer, sizeof buffer);  // plain blocking read
  });
  std::this_thread::sleep_for(20ms);
  ASSERT_EQ(::write(writer, "t", 1), 1);
  other.join();
  EXPECT_EQ(got, 1);
  EXPECT_EQ(real_flags(reader) & O_NONBLOCK, 0);  // no task used it
}

TEST_F(SocketTest, LibSocketIsCooperativeWithoutInterposition) {
  auto [reader, writer] = socket_pair();
  char buffer[4];
  ssize_t got = 0;
  int ticks = 0;
  spawn([&, reader = reader] { got = lib::socket::recv(reader, buffer, sizeof buffer, 0); });
  spawn([&, writer = writer] {
    lib::time::usleep(20'000);
    ++ticks;
    lib::socket::send(writer, "lib", 3, 0);
  });
  loop().run();
  EXPECT_EQ(got, 3);
  EXPECT_EQ(ticks, 1);
}

TEST_F(SocketTest, IsPatchedNamesTheModules) {
  EXPECT_TRUE(patch::is_patched("socket"));
  EXPECT_TRUE(patch::is_patched("select"));
  EXPECT_TRUE(patch::is_patched("time"));
  EXPECT_TRUE(patch::is_patched("dns"));
  EXPECT_THROW(patch::is_patched("thread"), std::invalid_argument);
  patch::patch({.socket = true});  // patching again is harmless
}

}  // namespace
}  // namespace evergreen
