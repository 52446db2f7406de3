#include "evergreen/io/file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"
#include "gtest/gtest.h"
#include "tests/io/io_fixture.h"
#include "tests/temp_dir.h"

using namespace std::chrono_literals;

namespace evergreen::testing {
namespace {

using io::File;
using io::FileError;

// Total bytes the concurrent pwrite test writes; raise it (1 GiB) to stress.
constexpr size_t kConcurrentWriteBytes = size_t{64} << 20;
constexpr int kConcurrentWriters = 4;

class FileTest : public IoTest {
 protected:
  std::string path(const std::string& name) { return temp_.file(name); }

  evergreen::testing::TempDir temp_{"file_test"};
  const std::string& dir_ = temp_.path();
};

// A pattern byte for each offset, so that any misplaced byte shows.
char byte_at(size_t offset) { return char((offset * 131 + offset / 4096) & 0xff); }

TEST_F(FileTest, WriteThenReadBack) {
  const std::string name = path("a");
  File out = File::open(name, O_WRONLY | O_CREAT | O_TRUNC);
  EXPECT_EQ(out.write("hello, "), 7u);
  EXPECT_EQ(out.write("world"), 5u);
  out.fsync();
  EXPECT_EQ(out.size(), 12);
  out.close();

  File in = File::open(name, O_RDONLY);
  EXPECT_EQ(in.read(5), "hello");
  EXPECT_EQ(in.read(100), ", world");
  EXPECT_EQ(in.read(100), "");  // end of file
  EXPECT_EQ(in.read(100), "");
}

TEST_F(FileTest, PreadAndPwriteLeaveTheOffsetAlone) {
  File file = File::open(path("b"), O_RDWR | O_CREAT | O_TRUNC, 0600);
  EXPECT_EQ(file.write("0123456789"), 10u);
  EXPECT_EQ(file.pwrite("abc", 3), 3u);
  EXPECT_EQ(file.pread(4, 2), "2abc");
  EXPECT_EQ(file.pread(100, 8), "89");
  EXPECT_EQ(file.pread(10, 10), "");  // at the end
  EXPECT_EQ(file.pread(10, 50), "");  // past it
  // The offset is still at 10, where write() left it.
  EXPECT_EQ(file.write("!"), 1u);
  EXPECT_EQ(file.pread(100, 0), "012abc6789!");
  EXPECT_EQ(file.pwrite("end", 20), 3u);  // leaves a hole
  EXPECT_EQ(file.size(), 23);
  EXPECT_EQ(file.pread(3, 20), "end");
  struct stat info {};
  ASSERT_EQ(::fstat(file.fileno(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(FileTest, MissingPathIsNamed) {
  const std::string name = dir_ + "/does-not-exist";
  try {
    File::open(name, O_RDONLY);
    FAIL() << "opened a missing file";
  } catch (const FileError& error) {
    EXPECT_EQ(error.code().value(), ENOENT);
    EXPECT_EQ(std::string(error.what()), "evergreen: open " + name + ": No such file or directory");
  }
}

TEST_F(FileTest, Directory) {
  try {
    File::open(dir_, O_WRONLY);
    FAIL() << "opened a directory for writing";
  } catch (const FileError& error) {
    EXPECT_EQ(error.code().value(), EISDIR);
    EXPECT_NE(std::string(error.what()).find(dir_), std::string::npos) << error.what();
  }
  File directory = File::open(dir_, O_RDONLY);
  try {
    directory.read(10);
    FAIL() << "read a directory";
  } catch (const FileError& error) {
    EXPECT_EQ(error.code().value(), EISDIR);
    EXPECT_EQ(std::string(error.what()), "evergreen: read " + dir_ + ": Is a directory");
  }
}

TEST_F(FileTest, EveryCallAfterCloseThrowsEbadf) {
  const std::string name = path("c");
  File file = File::open(name, O_RDWR | O_CREAT);
  EXPECT_FALSE(file.closed());
  EXPECT_GE(file.fileno(), 0);
  file.close();
  file.close();  // twice does nothing
  EXPECT_TRUE(file.closed());
  EXPECT_EQ(file.fileno(), -1);
  auto expect_closed = [&](auto call, const char* operation) {
    try {
      call();
      ADD_FAILURE() << operation << " after close() did not throw";
    } catch (const FileError& error) {
      EXPECT_EQ(error.code().value(), EBADF);
      const std::string what = error.what();
      EXPECT_NE(what.find(std::string(operation) + " " + name), std::string::npos) << what;
      EXPECT_NE(what.find("closed"), std::string::npos) << what;
    }
  };
  expect_closed([&] { file.read(1); }, "read");
  expect_closed([&] { file.pread(1, 0); }, "pread");
  expect_closed([&] { file.write("x"); }, "write");
  expect_closed([&] { file.pwrite("x", 0); }, "pwrite");
  expect_closed([&] { file.fsync(); }, "fsync");
  expect_closed([&] { file.size(); }, "size");

  File moved = File::open(name, O_RDONLY);
  File target = std::move(moved);
  EXPECT_TRUE(moved.closed());  // NOLINT(bugprone-use-after-move): moved-from is closed
  EXPECT_THROW(moved.read(1), FileError);
  EXPECT_FALSE(target.closed());
}

TEST_F(FileTest, OtherTasksRunWhileACallIsInFlight) {
  // Writing 64 MiB and syncing it takes the pool thread a while; the ticker
  // keeps running meanwhile, on the loop's thread.
  const std::string data(kConcurrentWriteBytes, 'x');
  std::atomic<bool> writing{true};
  int ticks_during_write = 0;
  auto ticker = spawn([&] {
    while (writing) {
      ++ticks_during_write;
      sleep(std::chrono::microseconds(100));
    }
  });
  ASSERT_TRUE(bounded(
      [&] {
        File file = File::open(path("d"), O_WRONLY | O_CREAT | O_TRUNC);
        for (int i = 0; i < 4; ++i) file.pwrite(data, off_t(i * data.size()));
        file.fsync();
        writing = false;
        ticker->join();
      },
      60s));
  EXPECT_GT(ticks_during_write, 1);
}

TEST_F(FileTest, MainContextAndTasksBothWork) {
  const std::string name = path("e");
  File::open(name, O_WRONLY | O_CREAT).write("abc");  // main context
  std::string read_in_task;
  auto reader = spawn([&] { read_in_task = File::open(name, O_RDONLY).read(10); });
  reader->join();
  EXPECT_EQ(read_in_task, "abc");
}

// A kill or Timeout during a call is raised once the pool thread is done:
// the task's buffer is never written after it unwound (ASan would see it).
TEST_F(FileTest, TimeoutDuringACallWaitsForThePoolThread) {
  const std::string name = path("f");
  const std::string data(size_t{16} << 20, 'y');
  File::open(name, O_WRONLY | O_CREAT).write(data);
  int timeouts = 0;
  std::vector<std::shared_ptr<Task>> readers;
  for (int i = 0; i < 8; ++i) {
    readers.push_back(spawn([&] {
      File file = File::open(name, O_RDONLY);
      try {
        Timeout timeout(std::chrono::microseconds(50));
        for (;;) file.pread(data.size(), 0);
      } catch (const Timeout&) {
        ++timeouts;
      }
      EXPECT_EQ(file.pread(4, 0), "yyyy");  // usable afterwards
    }));
  }
  for (auto& reader : readers) reader->join();
  EXPECT_EQ(timeouts, 8);
}

TEST_F(FileTest, KillDuringACallWaitsForThePoolThread) {
  const std::string name = path("g");
  const std::string data(size_t{16} << 20, 'z');
  File::open(name, O_WRONLY | O_CREAT).write(data);
  std::vector<std::shared_ptr<Task>> readers;
  std::atomic<int> started{0};
  for (int i = 0; i < 8; ++i) {
    readers.push_back(spawn([&] {
      File file = File::open(name, O_RDONLY);
      ++started;
      for (;;) {
        std::string chunk = file.pread(data.size(), 0);
        ASSERT_EQ(chunk.size(), data.size());
      }
    }));
  }
  while (started < 8) sleep(std::chrono::microseconds(100));
  sleep(std::chrono::milliseconds(1));
  for (auto& reader : readers) reader->kill();
  for (auto& reader : readers) EXPECT_TRUE(reader->join(10s));
}

TEST_F(FileTest, LoopDestroyedDuringACall) {
  // destroy() kills the task mid-call; the call waits for its pool thread
  // before the task unwinds, instead of blocking destroy() forever.
  const std::string name = path("h");
  const std::string data(size_t{16} << 20, 'w');
  File::open(name, O_WRONLY | O_CREAT).write(data);
  std::atomic<bool> reading{false};
  auto reader = spawn([&] {
    File file = File::open(name, O_RDONLY);
    for (;;) {
      reading = true;
      file.pread(data.size(), 0);
    }
  });
  while (!reading) sleep(std::chrono::microseconds(100));
  destroy_this_threads_loop();
  EXPECT_FALSE(reader->is_alive());
}

TEST_F(FileTest, ConcurrentPwritesOfDisjointRegions) {
  const std::string name = path("i");
  File file = File::open(name, O_RDWR | O_CREAT | O_TRUNC);
  constexpr size_t kRegion = kConcurrentWriteBytes / kConcurrentWriters;
  constexpr size_t kChunk = size_t{1} << 20;
  std::vector<std::shared_ptr<Task>> writers;
  for (int w = 0; w < kConcurrentWriters; ++w) {
    writers.push_back(spawn([&, w] {
      std::string chunk(kChunk, '\0');
      for (size_t done = 0; done < kRegion; done += kChunk) {
        const size_t base = size_t(w) * kRegion + done;
        for (size_t i = 0; i < kChunk; ++i) chunk[i] = byte_at(base + i);
        ASSERT_EQ(file.pwrite(chunk, off_t(base)), kChunk);
      }
    }));
  }
  ASSERT_TRUE(bounded(
      [&] {
        for (auto& writer : writers) writer->join();
      },
      120s));
  ASSERT_EQ(file.size(), off_t(kConcurrentWriteBytes));
  size_t mismatches = 0;
  for (size_t offset = 0; offset < kConcurrentWriteBytes; offset += kChunk) {
    std::string chunk = file.pread(kChunk, off_t(offset));
    ASSERT_EQ(chunk.size(), kChunk);
    for (size_t i = 0; i < kChunk; ++i) mismatches += chunk[i] != byte_at(offset + i);
  }
  EXPECT_EQ(mismatches, 0u);
}

}  // namespace
}  // namespace evergreen::testing
