// io::File on each backend (EVERGREEN_BACKEND picks it; CI runs this once on
// io_uring and once on epoll): where the system calls run (the ring or the
// file pool), a kill while one is in flight, errors from the kernel naming
// the path, and a 1 GiB file written by four tasks at once.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "evergreen/io/file.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "gtest/gtest.h"
#include "tests/io/file_pool_jam.h"
#include "tests/io/io_fixture.h"
#include "tests/temp_dir.h"

using namespace std::chrono_literals;

namespace evergreen::testing {
namespace {

using io::File;
using io::FileError;

class FileBackendTest : public IoTest {
 protected:
  std::string path(const std::string& name) { return temp_.file(name); }
  bool on_io_uring() { return EventLoop::current().backend() == Backend::kIoUring; }

  TempDir temp_{"file_backend_test"};
};

// Every 4 KiB block of the big file: its offset in the first 8 bytes, then a
// byte that depends on the 1 MiB chunk it lies in. Cheap to make (no per-byte
// loop, which would crawl under the sanitizers) and any misplaced block shows.
constexpr size_t kBlock = 4096;
constexpr size_t kChunk = size_t{1} << 20;
char fill_of(size_t offset) { return char('a' + (offset / kChunk) % 26); }

// Fills `chunk` (kChunk bytes, at file offset `base`, a multiple of kChunk).
void make_chunk(char* chunk, size_t base) {
  std::memset(chunk, fill_of(base), kChunk);
  for (size_t block = 0; block < kChunk; block += kBlock) {
    const uint64_t label = base + block;
    std::memcpy(chunk + block, &label, sizeof label);
  }
}

// Empty if `block` (read at `offset`) is right, else what is wrong.
std::string check_block(const std::string& block, size_t offset) {
  if (block.size() != kBlock) return "short block at " + std::to_string(offset);
  uint64_t label = 0;
  std::memcpy(&label, block.data(), sizeof label);
  if (label != offset)
    return "block at " + std::to_string(offset) + " labelled " + std::to_string(label);
  for (size_t i = sizeof label; i < kBlock; ++i) {
    if (block[i] != fill_of(offset)) return "wrong byte in block at " + std::to_string(offset);
  }
  return "";
}

TEST_F(FileBackendTest, CallsGoToTheRingOnIoUringAndToThePoolOnEpoll) {
  const std::string name = path("a");
  File file = File::open(name, O_RDWR | O_CREAT | O_TRUNC);  // open() uses the pool
  PoolJam jam;
  if (on_io_uring()) {
    // Nothing waits for the jammed pool: the kernel performs each call.
    auto task = spawn([&] {
      EXPECT_EQ(file.write("0123456789"), 10u);
      EXPECT_EQ(file.pwrite("ab", 4), 2u);
      file.fsync();
      EXPECT_EQ(file.pread(6, 2), "23ab67");
      EXPECT_EQ(file.read(5), "");  // the offset is at 10, the end
    });
    EXPECT_TRUE(task->join(10s)) << "a file call waited for the file pool on io_uring";
    // The main context takes the same path.
    EXPECT_EQ(file.pread(3, 0), "012");
  } else {
    auto task = spawn([&] { EXPECT_EQ(file.write("0123456789"), 10u); });
    EXPECT_FALSE(task->join(50ms)) << "the write did not wait for the (jammed) file pool";
    jam.release();
    EXPECT_TRUE(task->join(10s));
    EXPECT_EQ(file.pread(3, 0), "012");
  }
}

TEST_F(FileBackendTest, KillDuringAPendingWriteWritesItAllThenRaises) {
  const std::string name = path("b");
  File file = File::open(name, O_RDWR | O_CREAT | O_TRUNC);
  constexpr size_t kBytes = size_t{64} << 20;
  std::atomic<bool> writing{false};
  bool went_on = false;
  auto writer = spawn([&] {
    std::string data(kBytes, '\0');
    for (size_t base = 0; base < kBytes; base += kChunk) make_chunk(data.data() + base, base);
    writing = true;
    file.pwrite(data, 0);  // `data` dies with the task: nothing may write from it after
    went_on = true;
  });
  ASSERT_TRUE(bounded(
      [&] {
        while (!writing) sleep(std::chrono::microseconds(10));
      },
      60s));
  writer->kill();
  ASSERT_TRUE(writer->join(30s));
  EXPECT_FALSE(went_on);
  // The write in flight when the kill came was finished, not cut short.
  ASSERT_EQ(file.size(), off_t(kBytes));
  for (size_t offset = 0; offset < kBytes; offset += kChunk + kBlock) {
    EXPECT_EQ(check_block(file.pread(kBlock, off_t(offset)), offset), "");
  }
}

TEST_F(FileBackendTest, KernelErrorsNameThePath) {
  const std::string name = path("c");
  File::open(name, O_WRONLY | O_CREAT).write("x");
  File read_only = File::open(name, O_RDONLY);
  try {
    read_only.pwrite("y", 0);
    FAIL() << "wrote to a file opened read-only";
  } catch (const FileError& error) {
    EXPECT_EQ(error.code().value(), EBADF);
    EXPECT_EQ(std::string(error.what()), "evergreen: pwrite " + name + ": Bad file descriptor");
  }
  try {
    read_only.write("y");
    FAIL() << "wrote to a file opened read-only";
  } catch (const FileError& error) {
    EXPECT_EQ(error.code().value(), EBADF);
    EXPECT_EQ(std::string(error.what()), "evergreen: write " + name + ": Bad file descriptor");
  }
  File write_only = File::open(name, O_WRONLY);
  try {
    write_only.pread(1, 0);
    FAIL() << "read from a file opened write-only";
  } catch (const FileError& error) {
    EXPECT_EQ(error.code().value(), EBADF);
    EXPECT_EQ(std::string(error.what()), "evergreen: pread " + name + ": Bad file descriptor");
  }
  EXPECT_EQ(read_only.read(10), "x");  // still usable
}

TEST_F(FileBackendTest, OneGibFileWrittenByFourTasksAtOnce) {
  constexpr size_t kBytes = size_t{1} << 30;
  constexpr int kWriters = 4;
  constexpr size_t kRegion = kBytes / kWriters;
  const std::string name = path("big");
  File file = File::open(name, O_RDWR | O_CREAT | O_TRUNC);
  std::vector<std::shared_ptr<Task>> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.push_back(spawn([&, w] {
      std::string chunk(kChunk, '\0');
      // Interleaved across the region, so the four tasks' writes alternate.
      for (size_t done = 0; done < kRegion; done += kChunk) {
        const size_t base = size_t(w) * kRegion + done;
        make_chunk(chunk.data(), base);
        ASSERT_EQ(file.pwrite(chunk, off_t(base)), kChunk);
      }
    }));
  }
  ASSERT_TRUE(bounded(
      [&] {
        for (auto& writer : writers) writer->join();
      },
      600s));
  file.fsync();
  ASSERT_EQ(file.size(), off_t(kBytes));
  // A block from every chunk, at a place that moves from chunk to chunk.
  size_t checked = 0;
  for (size_t chunk = 0; chunk < kBytes / kChunk; ++chunk) {
    const size_t offset = chunk * kChunk + ((chunk * 37) % (kChunk / kBlock)) * kBlock;
    ASSERT_EQ(check_block(file.pread(kBlock, off_t(offset)), offset), "");
    ++checked;
  }
  EXPECT_EQ(checked, kBytes / kChunk);
  // The first and last blocks through read(), at the file offset.
  EXPECT_EQ(check_block(file.read(kBlock), 0), "");
  EXPECT_EQ(check_block(file.pread(kBlock, off_t(kBytes - kBlock)), kBytes - kBlock), "");
}

}  // namespace
}  // namespace evergreen::testing
