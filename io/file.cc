#include "evergreen/io/file.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "absl/cleanup/cleanup.h"
#include "absl/functional/function_ref.h"
#include "evergreen/io/internal/file_pool.h"
#include "evergreen/io/internal/unique_fd.h"

namespace evergreen::io {
namespace {

// The most one read or write asks the kernel for (it caps a call at just under
// 2 GiB anyway); a shorter transfer than asked for then means end of file.
constexpr size_t kMaxTransfer = size_t{1} << 30;

std::string describe(const char* operation, const std::string& path) {
  return std::string("evergreen: ") + operation + " " + path;
}

// Runs `op` (which returns 0 or an errno value) on the file pool; throws
// FileError naming `operation` and `path` if it failed.
void run_file_call(const char* operation, const std::string& path, absl::FunctionRef<int()> op) {
  int error = 0;
  internal::run_off_loop([&] { error = op(); });
  if (error != 0) throw FileError(error, describe(operation, path));
}

}  // namespace

// The descriptor and who is using it. Shared by the File and every call in
// flight, so a File closed, moved or destroyed by another task meanwhile never
// pulls the descriptor from under a pool thread.
namespace internal {
struct FileState {
  explicit FileState(std::string path, int fd) : path(std::move(path)), fd(fd) {}
  ~FileState() {
    if (fd >= 0) ::close(fd);
  }

  // Marks a call in flight and returns the descriptor; throws FileError
  // (EBADF) once closed.
  int begin(const char* operation) {
    std::lock_guard<std::mutex> lock(mutex);
    if (closed) throw FileError(EBADF, describe(operation, path) + ": the file is closed");
    ++in_flight;
    return fd;
  }
  void end() {
    std::lock_guard<std::mutex> lock(mutex);
    if (--in_flight == 0 && closed) close_locked();
  }
  void close() {
    std::lock_guard<std::mutex> lock(mutex);
    if (closed) return;
    closed = true;
    if (in_flight == 0) close_locked();
  }
  void close_locked() {
    ::close(fd);
    fd = -1;
  }

  const std::string path;
  mutable std::mutex mutex;
  int fd;
  int in_flight = 0;
  bool closed = false;
};
}  // namespace internal

using internal::FileState;

File::~File() { close(); }

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

File File::open(std::string_view path, int flags, mode_t mode) {
  std::string name(path);
  internal::UniqueFd opened;  // closes the file if a kill arrives meanwhile
  run_file_call("open", name, [&] {
    int fd;
    do {
      fd = ::open(name.c_str(), flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return errno;
    opened.reset(fd);
    return 0;
  });
  return File(std::make_shared<FileState>(std::move(name), opened.release()));
}

namespace {

// Reads up to `n` bytes into `out` with read(2) (offset < 0) or pread(2);
// returns 0 or an errno value.
int read_fully(int fd, std::string& out, size_t n, off_t offset) {
  out.resize(n);
  size_t got = 0;
  while (got < n) {
    const size_t want = std::min(n - got, kMaxTransfer);
    ssize_t result = offset < 0 ? ::read(fd, out.data() + got, want)
                                : ::pread(fd, out.data() + got, want, offset + off_t(got));
    if (result < 0) {
      if (errno == EINTR) continue;
      if (got > 0) break;  // return what was read; the error recurs next time
      out.clear();
      return errno;
    }
    got += size_t(result);
    if (size_t(result) < want) break;  // end of file
  }
  out.resize(got);
  return 0;
}

// Writes all of `data` with write(2) (offset < 0) or pwrite(2); returns 0 or
// an errno value.
int write_fully(int fd, std::string_view data, off_t offset) {
  size_t done = 0;
  while (done < data.size()) {
    const size_t want = std::min(data.size() - done, kMaxTransfer);
    ssize_t result = offset < 0 ? ::write(fd, data.data() + done, want)
                                : ::pwrite(fd, data.data() + done, want, offset + off_t(done));
    if (result < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (result == 0) return EIO;
    done += size_t(result);
  }
  return 0;
}

// Runs `op(fd)` on the pool with `state`'s descriptor held open.
void run_on_fd(std::shared_ptr<FileState> state, const char* operation,
               absl::FunctionRef<int(int fd)> op) {
  if (state == nullptr) {
    throw FileError(EBADF, std::string("evergreen: ") + operation + ": the file is closed");
  }
  const int fd = state->begin(operation);
  absl::Cleanup end = [&] { state->end(); };
  run_file_call(operation, state->path, [&] { return op(fd); });
}

}  // namespace

std::string File::read(size_t n) {
  std::string data;
  run_on_fd(state_, "read", [&](int fd) { return read_fully(fd, data, n, -1); });
  return data;
}

std::string File::pread(size_t n, off_t offset) {
  if (offset < 0) throw FileError(EINVAL, describe("pread", path()) + ": negative offset");
  std::string data;
  run_on_fd(state_, "pread", [&](int fd) { return read_fully(fd, data, n, offset); });
  return data;
}

size_t File::write(std::string_view data) {
  run_on_fd(state_, "write", [&](int fd) { return write_fully(fd, data, -1); });
  return data.size();
}

size_t File::pwrite(std::string_view data, off_t offset) {
  if (offset < 0) throw FileError(EINVAL, describe("pwrite", path()) + ": negative offset");
  run_on_fd(state_, "pwrite", [&](int fd) { return write_fully(fd, data, offset); });
  return data.size();
}

void File::fsync() {
  run_on_fd(state_, "fsync", [](int fd) {
    int result;
    do {
      result = ::fsync(fd);
    } while (result < 0 && errno == EINTR);
    return result < 0 ? errno : 0;
  });
}

off_t File::size() {
  struct stat info {};
  run_on_fd(state_, "size", [&](int fd) { return ::fstat(fd, &info) < 0 ? errno : 0; });
  return info.st_size;
}

void File::close() {
  if (state_ != nullptr) state_->close();
}

int File::fileno() const {
  if (state_ == nullptr) return -1;
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->closed ? -1 : state_->fd;
}

bool File::closed() const {
  if (state_ == nullptr) return true;
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->closed;
}

const std::string& File::path() const {
  static const std::string kNone;
  return state_ == nullptr ? kNone : state_->path;
}

}  // namespace evergreen::io
