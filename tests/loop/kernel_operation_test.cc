// Poller::submit_operation() and finish_operations() (kernel_operation.h):
// io_uring performs reads, writes and fsyncs itself, sends them with the next
// poll() rather than at once, counts them as work for poll(), delivers each
// completion once, and finish_operations() waits for them while keeping the
// readiness events that arrive meanwhile; epoll performs none.
#include "evergreen/loop/internal/kernel_operation.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "evergreen/loop/internal/poller.h"
#include "evergreen/loop/internal/poller_epoll.h"
#include "evergreen/loop/internal/poller_io_uring.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace evergreen::internal {
namespace {

struct RecordedOperation : KernelOperation {
  RecordedOperation(Kind what, int file, void* data, uint32_t bytes, int64_t at) {
    kind = what;
    fd = file;
    buffer = data;
    length = bytes;
    offset = at;
  }
  void on_complete(int32_t value) override {
    ++completions;
    result = value;
  }
  int completions = 0;
  int32_t result = 0;
};

struct Recorder : PollHandler {
  void on_poll_events(uint32_t events) override {
    ++calls;
    last = events;
  }
  int calls = 0;
  uint32_t last = 0;
};

class KernelOperationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      poller = std::make_unique<IoUringPoller>();
    } catch (const std::system_error& error) {
      GTEST_SKIP() << "this kernel refuses io_uring: " << error.what();
    }
    const std::string name = temp.file("data");
    fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
  }
  void TearDown() override {
    poller.reset();  // waits for anything still in flight
    if (fd >= 0) ::close(fd);
  }

  // Polls until `operation` completed (at most `rounds` polls of 1 s).
  void poll_until_done(const RecordedOperation& operation, int rounds = 10) {
    for (int i = 0; i < rounds && operation.completions == 0; ++i) poller->poll(1000);
  }

  evergreen::testing::TempDir temp{"kernel_operation_test"};
  std::unique_ptr<Poller> poller;
  int fd = -1;
};

TEST_F(KernelOperationTest, CancelledReceiveCompletesOnceAndFinishOperationWaitsForIt) {
  // A receive on a socket with nothing queued waits in the kernel; a
  // cancellation ends it with -ECANCELED, and finish_operation() returns only
  // once its completion has been delivered.
  int sockets[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sockets), 0);
  char buffer[16];
  RecordedOperation receive(KernelOperation::Kind::kRecv, sockets[0], buffer, sizeof buffer, -1);
  uint64_t before = poller->operations_submitted(KernelOperation::Kind::kRecv);
  poller->submit_operation(receive);
  EXPECT_TRUE(receive.in_flight);
  EXPECT_EQ(poller->operations_submitted(KernelOperation::Kind::kRecv), before + 1);
  poller->poll(0);  // submitted; nothing to receive yet
  EXPECT_EQ(receive.completions, 0);
  poller->cancel_operation(receive);
  poller->finish_operation(receive);
  EXPECT_EQ(receive.completions, 1);
  EXPECT_EQ(receive.result, -ECANCELED);
  EXPECT_FALSE(receive.in_flight);
  // Cancelling what has completed does nothing; no second completion comes.
  poller->cancel_operation(receive);
  poller->poll(0);
  EXPECT_EQ(receive.completions, 1);

  // A receive that data completes delivers the bytes.
  RecordedOperation second(KernelOperation::Kind::kRecv, sockets[0], buffer, sizeof buffer, -1);
  poller->submit_operation(second);
  ASSERT_EQ(::write(sockets[1], "hello", 5), 5);
  poll_until_done(second);
  EXPECT_EQ(second.result, 5);
  EXPECT_EQ(std::string(buffer, 5), "hello");
  ::close(sockets[0]);
  ::close(sockets[1]);
}

TEST_F(KernelOperationTest, WriteReadAndFsyncComplete) {
  ASSERT_TRUE(poller->performs_operations());
  char text[] = "hello, ring";
  RecordedOperation write(KernelOperation::Kind::kWrite, fd, text, 11, 0);
  poller->submit_operation(write);
  poll_until_done(write);
  EXPECT_EQ(write.completions, 1);
  EXPECT_EQ(write.result, 11);

  RecordedOperation sync(KernelOperation::Kind::kFsync, fd, nullptr, 0, -1);
  poller->submit_operation(sync);
  poll_until_done(sync);
  EXPECT_EQ(sync.completions, 1);
  EXPECT_EQ(sync.result, 0);

  char buffer[32] = {};
  RecordedOperation read(KernelOperation::Kind::kRead, fd, buffer, sizeof buffer, 7);
  poller->submit_operation(read);
  poll_until_done(read);
  EXPECT_EQ(read.result, 4);
  EXPECT_EQ(std::string(buffer, 4), "ring");
  // A later poll delivers nothing more.
  poller->poll(0);
  EXPECT_EQ(read.completions, 1);
  EXPECT_EQ(write.completions, 1);
}

TEST_F(KernelOperationTest, OffsetMinusOneUsesAndAdvancesTheFileOffset) {
  char first[] = "abc";
  char second[] = "def";
  RecordedOperation one(KernelOperation::Kind::kWrite, fd, first, 3, -1);
  poller->submit_operation(one);
  poll_until_done(one);
  RecordedOperation two(KernelOperation::Kind::kWrite, fd, second, 3, -1);
  poller->submit_operation(two);
  poll_until_done(two);
  EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), 6);
  char buffer[8] = {};
  ASSERT_EQ(::pread(fd, buffer, sizeof buffer, 0), 6);
  EXPECT_EQ(std::string(buffer, 6), "abcdef");
}

TEST_F(KernelOperationTest, QueuedUntilPollAndCountedAsWork) {
  const size_t before = poller->size();
  char text[] = "x";
  RecordedOperation write(KernelOperation::Kind::kWrite, fd, text, 1, 0);
  poller->submit_operation(write);
  // Queued, not sent: the file is still empty.
  EXPECT_EQ(::lseek(fd, 0, SEEK_END), 0);
  EXPECT_EQ(poller->size(), before + 1);
  poll_until_done(write);
  EXPECT_EQ(write.completions, 1);
  EXPECT_EQ(poller->size(), before);
  EXPECT_EQ(::lseek(fd, 0, SEEK_END), 1);
}

TEST_F(KernelOperationTest, ErrorsComeBackAsNegativeErrno) {
  char buffer[4];
  RecordedOperation bad(KernelOperation::Kind::kRead, 1'000'000, buffer, sizeof buffer, 0);
  poller->submit_operation(bad);
  poll_until_done(bad);
  EXPECT_EQ(bad.completions, 1);
  EXPECT_EQ(bad.result, -EBADF);
}

TEST_F(KernelOperationTest, FinishOperationsWaitsAndKeepsReadinessEvents) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  Recorder recorder;
  Poller::Token token = poller->add(fds[0], kPollIn, &recorder);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  std::vector<std::unique_ptr<RecordedOperation>> operations;
  std::vector<std::string> buffers(16, std::string(4096, 'q'));
  for (size_t i = 0; i < buffers.size(); ++i) {
    operations.push_back(std::make_unique<RecordedOperation>(
        KernelOperation::Kind::kWrite, fd, buffers[i].data(), 4096, int64_t(i * 4096)));
    poller->submit_operation(*operations.back());
  }
  poller->finish_operations();
  for (const auto& operation : operations) {
    EXPECT_EQ(operation->completions, 1);
    EXPECT_EQ(operation->result, 4096);
  }
  EXPECT_EQ(recorder.calls, 0);  // not dispatched by finish_operations()...
  for (int i = 0; i < 10 && recorder.calls == 0; ++i) poller->poll(1000);
  EXPECT_EQ(recorder.calls, 1);  // ...but kept for poll()
  EXPECT_TRUE(recorder.last & kPollIn);
  poller->remove(token, fds[0]);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(KernelOperationTest, DestroyingThePollerWaitsForOperations) {
  // The kernel must be done with the buffer when the poller is gone: ASan
  // would see a write into it after it was freed.
  auto buffer = std::make_unique<std::string>(size_t{8} << 20, '\0');
  RecordedOperation read(KernelOperation::Kind::kRead, fd, buffer->data(),
                         uint32_t(buffer->size()), 0);
  ASSERT_EQ(::pwrite(fd, "abc", 3, 0), 3);
  poller->submit_operation(read);
  poller.reset();
  EXPECT_EQ(read.completions, 1);
  EXPECT_EQ(read.result, 3);
}

TEST(EpollKernelOperationTest, EpollPerformsNone) {
  EpollPoller poller;
  EXPECT_FALSE(poller.performs_operations());
  struct Ignored : KernelOperation {
    void on_complete(int32_t) override {}
  } operation;
  try {
    poller.submit_operation(operation);
    FAIL() << "epoll accepted a file operation";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code().value(), ENOTSUP);
  }
}

}  // namespace
}  // namespace evergreen::internal
