#include "evergreen/io/file.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "absl/functional/function_ref.h"
#include "evergreen/io/internal/file_call.h"
#include "evergreen/io/internal/file_pool.h"
#include "evergreen/io/internal/unique_fd.h"
#include "evergreen/loop/internal/blocking_context.h"

namespace evergreen::io {
namespace {

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

using evergreen::internal::BlockingContext;
using internal::FileCall;

// Holds `state`'s descriptor open for one File call: begin() on the way in,
// end() on the way out. Throws FileError (EBADF) for a closed File.
class FdInUse {
 public:
  FdInUse(const std::shared_ptr<FileState>& state, const char* operation) : state_(state) {
    if (state_ == nullptr) {
      throw FileError(EBADF, std::string("evergreen: ") + operation + ": the file is closed");
    }
    fd_ = state_->begin(operation);
  }
  ~FdInUse() { state_->end(); }
  FdInUse(const FdInUse&) = delete;
  FdInUse& operator=(const FdInUse&) = delete;

  int fd() const { return fd_; }

 private:
  std::shared_ptr<FileState> state_;
  int fd_ = -1;
};

// The calling context, with a kill or Timeout already pending raised before
// anything is done.
BlockingContext& caller() {
  BlockingContext& self = evergreen::internal::current_blocking_context();
  evergreen::internal::raise_pending(self);
  return self;
}

// One call, retried on EINTR.
ssize_t perform(BlockingContext& self, const FileCall& call) {
  ssize_t result;
  do {
    result = internal::perform_file_call(self, call);
  } while (result == -EINTR && !self.pending);
  return result;
}

// Reads up to `n` bytes with read(2) (offset < 0) or pread(2) semantics, as
// many calls as it takes: a short count ends the loop only at the end of the
// file (a zero count), since io_uring may return one elsewhere. Stops after
// the current call when a kill or Timeout arrives (raised by the caller).
// Returns the bytes, or throws FileError if the first call failed.
std::string read_fully(BlockingContext& self, const FileState& state, int fd, size_t n,
                       off_t offset, const char* operation) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n && !self.pending) {
    FileCall call;
    call.kind = FileCall::Kind::kRead;
    call.fd = fd;
    call.buffer = out.data() + got;
    call.length = std::min(n - got, internal::kMaxFileTransfer);
    call.offset = offset < 0 ? -1 : offset + off_t(got);
    ssize_t result = perform(self, call);
    if (result < 0) {
      if (got > 0) break;  // return what was read; the error recurs next time
      throw FileError(int(-result), describe(operation, state.path));
    }
    if (result == 0) break;  // end of file
    got += size_t(result);
  }
  out.resize(got);
  return out;
}

// Writes all of `data` with write(2) (offset < 0) or pwrite(2) semantics;
// throws FileError if the kernel refuses part of it. Stops after the current
// call when a kill or Timeout arrives (raised by the caller).
void write_fully(BlockingContext& self, const FileState& state, int fd, std::string_view data,
                 off_t offset, const char* operation) {
  size_t done = 0;
  while (done < data.size() && !self.pending) {
    FileCall call;
    call.kind = FileCall::Kind::kWrite;
    call.fd = fd;
    call.buffer = const_cast<char*>(data.data() + done);  // only read from
    call.length = std::min(data.size() - done, internal::kMaxFileTransfer);
    call.offset = offset < 0 ? -1 : offset + off_t(done);
    ssize_t result = perform(self, call);
    if (result < 0) throw FileError(int(-result), describe(operation, state.path));
    if (result == 0) throw FileError(EIO, describe(operation, state.path));
    done += size_t(result);
  }
}

}  // namespace

std::string File::read(size_t n) {
  FdInUse in_use(state_, "read");
  BlockingContext& self = caller();
  std::string data = read_fully(self, *state_, in_use.fd(), n, -1, "read");
  evergreen::internal::raise_pending(self);
  return data;
}

std::string File::pread(size_t n, off_t offset) {
  if (offset < 0) throw FileError(EINVAL, describe("pread", path()) + ": negative offset");
  FdInUse in_use(state_, "pread");
  BlockingContext& self = caller();
  std::string data = read_fully(self, *state_, in_use.fd(), n, offset, "pread");
  evergreen::internal::raise_pending(self);
  return data;
}

size_t File::write(std::string_view data) {
  FdInUse in_use(state_, "write");
  BlockingContext& self = caller();
  write_fully(self, *state_, in_use.fd(), data, -1, "write");
  evergreen::internal::raise_pending(self);
  return data.size();
}

size_t File::pwrite(std::string_view data, off_t offset) {
  if (offset < 0) throw FileError(EINVAL, describe("pwrite", path()) + ": negative offset");
  FdInUse in_use(state_, "pwrite");
  BlockingContext& self = caller();
  write_fully(self, *state_, in_use.fd(), data, offset, "pwrite");
  evergreen::internal::raise_pending(self);
  return data.size();
}

void File::fsync() {
  FdInUse in_use(state_, "fsync");
  BlockingContext& self = caller();
  FileCall call;
  call.kind = FileCall::Kind::kFsync;
  call.fd = in_use.fd();
  ssize_t result = perform(self, call);
  evergreen::internal::raise_pending(self);
  if (result < 0) throw FileError(int(-result), describe("fsync", state_->path));
}

off_t File::size() {
  struct stat info {};
  FdInUse in_use(state_, "size");
  const int fd = in_use.fd();
  // On the pool on both backends: fstat never waits for the device long.
  run_file_call("size", state_->path, [&] { return ::fstat(fd, &info) < 0 ? errno : 0; });
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
