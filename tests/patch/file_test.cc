// Patched read/write/pread/pwrite on regular files: in a task they take
// io::File's path - io_uring operations on that backend, io's file pool on
// epoll - so other tasks keep running; outside tasks they are libc's.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/patch/patch.h"
#include "patch_test_support.h"
#include "tests/io/file_pool_jam.h"
#include "tests/temp_dir.h"

using namespace std::chrono_literals;

namespace evergreen {
namespace {

using testing::PatchedTest;

constexpr size_t kLarge = size_t{64} << 20;  // 64 MiB

std::vector<char> pattern(size_t size, uint32_t seed) {
  std::vector<char> bytes(size);
  uint32_t state = seed;
  for (size_t i = 0; i < size; ++i) {
    state = state * 1664525u + 1013904223u;
    bytes[i] = static_cast<char>(state >> 24);
  }
  return bytes;
}

class FileTest : public PatchedTest {
 protected:

  // A new file in the test's directory, opened read-write.
  int create(const std::string& name) {
    std::string path = temp_.file(name);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    EXPECT_GE(fd, 0) << strerror(errno);
    return fd;
  }

  // Writes `bytes` at offset 0 from the main context (libc's pwrite).
  void fill(int fd, const std::vector<char>& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t wrote =
          ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      ASSERT_GT(wrote, 0) << strerror(errno);
      done += static_cast<size_t>(wrote);
    }
  }

 private:
  evergreen::testing::TempDir temp_{"patch_file_test"};
};

TEST_F(FileTest, LargePreadInATaskLetsOtherTasksRun) {
  int fd = create("large");
  const std::vector<char> expected = pattern(kLarge, 1);
  fill(fd, expected);
  std::vector<char> got(kLarge);
  ssize_t result = 0;
  bool in_flight = false, finished = false;
  int ticks_during_read = 0;
  spawn([&] {
    in_flight = true;
    result = ::pread(fd, got.data(), got.size(), 0);
    in_flight = false;
    finished = true;
  });
  spawn([&] {
    while (!finished) {
      if (in_flight) ++ticks_during_read;
      sleep(0s);
    }
  });
  loop().run();
  EXPECT_EQ(result, static_cast<ssize_t>(kLarge));
  EXPECT_GT(ticks_during_read, 0);
  EXPECT_TRUE(got == expected);
  ::close(fd);
}

TEST_F(FileTest, ReadWritePwriteInATaskAreByteCorrect) {
  int fd = create("small");
  const std::vector<char> first = pattern(1 << 20, 2);
  const std::vector<char> second = pattern(1 << 16, 3);
  std::vector<char> read_back(first.size());
  ssize_t wrote = 0, pwrote = 0, read_result = 0, at_end = -1;
  int ticks = 0;
  bool finished = false;
  spawn([&] {
    wrote = ::write(fd, first.data(), first.size());
    pwrote = ::pwrite(fd, second.data(), second.size(), 4096);
    ::lseek(fd, 0, SEEK_SET);
    read_result = ::read(fd, read_back.data(), read_back.size());
    char byte;
    at_end = ::read(fd, &byte, 1);
    finished = true;
  });
  spawn([&] {
    while (!finished) {
      ++ticks;
      sleep(0s);
    }
  });
  loop().run();
  EXPECT_EQ(wrote, static_cast<ssize_t>(first.size()));
  EXPECT_EQ(pwrote, static_cast<ssize_t>(second.size()));
  EXPECT_EQ(read_result, static_cast<ssize_t>(first.size()));
  EXPECT_EQ(at_end, 0);
  std::vector<char> expected = first;
  std::memcpy(expected.data() + 4096, second.data(), second.size());
  EXPECT_TRUE(read_back == expected);
  EXPECT_GT(ticks, 0);
  ::close(fd);
}

TEST_F(FileTest, ErrorsComeBackWithErrno) {
  int fd = create("readonly");
  int read_only = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_RDONLY);
  ASSERT_GE(read_only, 0);
  ssize_t result = 0;
  int error = 0;
  spawn([&] {
    errno = 0;
    result = ::write(read_only, "x", 1);
    error = errno;
  });
  loop().run();
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, EBADF);
  ::close(read_only);
  ::close(fd);
}

// A kill during the call does not cut it short: the C caller sees the
// completed read, and the kill is raised at the next suspension point.
TEST_F(FileTest, KillDuringAReadCompletesItThenRaises) {
  int fd = create("killed");
  const std::vector<char> expected = pattern(kLarge, 4);
  fill(fd, expected);
  std::vector<char> got(kLarge);
  ssize_t result = 0;
  bool in_flight = false, after_read = false, after_sleep = false;
  auto victim = spawn([&] {
    in_flight = true;
    result = ::pread(fd, got.data(), got.size(), 0);
    after_read = true;
    sleep(10s);  // the kill is raised here
    after_sleep = true;
  });
  spawn([&] {
    while (!in_flight) sleep(0s);
    victim->kill();
  });
  testing::Stopwatch stopwatch;
  loop().run();
  EXPECT_EQ(result, static_cast<ssize_t>(kLarge));
  EXPECT_TRUE(after_read);
  EXPECT_FALSE(after_sleep);
  EXPECT_TRUE(got == expected);
  EXPECT_LT(stopwatch.seconds(), 5.0);
  ::close(fd);
}

// A Timeout that fires during the call: the call still completes, and the
// Timeout is raised at the next suspension point even though its scope has
// ended (the C caller already went on past it).
TEST_F(FileTest, TimeoutDuringAReadCompletesItAndIsRaisedAfterTheScope) {
  int fd = create("timed");
  const std::vector<char> expected = pattern(kLarge, 6);
  fill(fd, expected);
  std::vector<char> got(kLarge);
  ssize_t result = 0;
  bool fired = false, raised = false;
  spawn([&] {
    {
      Timeout timeout(1ms);
      result = ::pread(fd, got.data(), got.size(), 0);
      fired = timeout.fired();
    }
    raised = testing::timeout_raised_at_next_suspension();
  });
  loop().run();
  EXPECT_EQ(result, static_cast<ssize_t>(kLarge));
  EXPECT_TRUE(got == expected);
  // Reading 64 MiB takes well over 1 ms; should it not, nothing was delivered.
  EXPECT_EQ(raised, fired);
  ::close(fd);
}

TEST_F(FileTest, InATaskCallsGoToTheRingOnIoUringAndToThePoolOnEpoll) {
  int fd = create("where");
  const bool io_uring = loop().backend() == Backend::kIoUring;
  testing::PoolJam jam;
  bool finished = false, finished_while_jammed = false;
  ssize_t wrote = 0, pwrote = 0, read_result = 0, pread_result = 0;
  char head[4] = {}, middle[2] = {};
  spawn([&] {
    wrote = ::write(fd, "0123456789", 10);
    pwrote = ::pwrite(fd, "ab", 2, 4);
    ::lseek(fd, 0, SEEK_SET);
    read_result = ::read(fd, head, sizeof head);
    pread_result = ::pread(fd, middle, sizeof middle, 4);
    finished = true;
  });
  spawn([&] {
    // On io_uring nothing waits for the jammed pool; on epoll everything does.
    auto give_up = std::chrono::steady_clock::now() + (io_uring ? 10s : 50ms);
    while (!finished && std::chrono::steady_clock::now() < give_up) sleep(1ms);
    finished_while_jammed = finished;
    jam.release();
  });
  loop().run();
  EXPECT_EQ(finished_while_jammed, io_uring);
  EXPECT_TRUE(finished);
  EXPECT_EQ(wrote, 10);
  EXPECT_EQ(pwrote, 2);
  EXPECT_EQ(read_result, 4);
  EXPECT_EQ(std::string(head, 4), "0123");
  EXPECT_EQ(pread_result, 2);
  EXPECT_EQ(std::string(middle, 2), "ab");
  ::close(fd);
}

// io_uring reads "offset -1" as "at the file offset"; pread(2) refuses it.
TEST_F(FileTest, NegativeOffsetInATaskIsRefused) {
  int fd = create("negative");
  ASSERT_EQ(::write(fd, "abc", 3), 3);
  ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  ssize_t pread_result = 0, pwrite_result = 0;
  int pread_error = 0, pwrite_error = 0;
  spawn([&] {
    char byte;
    pread_result = ::pread(fd, &byte, 1, -1);
    pread_error = errno;
    pwrite_result = ::pwrite(fd, "x", 1, -1);
    pwrite_error = errno;
  });
  loop().run();
  EXPECT_EQ(pread_result, -1);
  EXPECT_EQ(pread_error, EINVAL);
  EXPECT_EQ(pwrite_result, -1);
  EXPECT_EQ(pwrite_error, EINVAL);
  EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), 0);  // nothing read or written at the offset
  char head[3];
  EXPECT_EQ(::pread(fd, head, 3, 0), 3);
  EXPECT_EQ(std::string(head, 3), "abc");
  ::close(fd);
}

TEST_F(FileTest, OutsideTasksCallsBlockTheThreadUnchanged) {
  int fd = create("outside");
  const std::vector<char> bytes = pattern(1 << 20, 5);
  bool task_ran = false;
  spawn([&] { task_ran = true; });
  // The main context is not a task: libc's calls, nothing else runs.
  EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  std::vector<char> got(bytes.size());
  EXPECT_EQ(::pread(fd, got.data(), got.size(), 0), static_cast<ssize_t>(got.size()));
  EXPECT_TRUE(got == bytes);
  EXPECT_EQ(::pwrite(fd, "abc", 3, 0), 3);
  ::lseek(fd, 0, SEEK_SET);
  char head[3];
  EXPECT_EQ(::read(fd, head, sizeof head), 3);
  EXPECT_EQ(std::string(head, 3), "abc");
  EXPECT_FALSE(task_ran);
  loop().run();
  EXPECT_TRUE(task_ran);
  ::close(fd);
}

}  // namespace
}  // namespace evergreen
