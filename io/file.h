// evergreen/io/file.h
//
// io::File: a regular file whose reads, writes and syncs block only the
// calling task. Files are always "ready" to epoll, so a file system call
// cannot be waited for like a socket. On a loop with the io_uring backend
// read, write, pread, pwrite and fsync are io_uring operations: the calling
// task (or the thread's main context) parks, the loop submits them with the
// rest of its iteration's work in one io_uring_enter, and the completion
// wakes the task. On the epoll backend, and for open() and size() on both,
// each call runs on a small process-wide thread pool instead and its result
// comes back through the loop's cross-thread queue. Either way the loop runs
// other tasks meanwhile and the call returns on the caller's thread.
//
// Kill and Timeout: a file system call is not interrupted. An exception
// delivered while one is in flight is raised when it has finished (the bytes
// of a write are then written, those of a read consumed; a transfer that
// needs several system calls stops after the current one), so the kernel or
// the pool thread never touches the caller's buffers after the call returns
// or throws. An exception already pending when the call begins is raised
// before anything is done.
//
// Errors throw io::FileError (a std::system_error carrying the errno value)
// whose message names the operation and the path:
//   "evergreen: read /tmp/x: Is a directory".
//
// Thread safety: a File may be used by several tasks, on one loop or on
// several threads' loops, at once (read() and write() then share the file
// offset, as with any descriptor). close() while other calls are in flight
// lets them finish and closes the descriptor after the last one; calls made
// after close() throw FileError(EBADF).
//
// Example:
//   io::File log = io::File::open("/tmp/log", O_WRONLY | O_CREAT | O_APPEND);
//   log.write("started\n");
//   log.fsync();
//   io::File input = io::File::open("/etc/hosts", O_RDONLY);
//   for (std::string chunk; !(chunk = input.read(64 * 1024)).empty();) consume(chunk);
#ifndef EVERGREEN_IO_FILE_H_
#define EVERGREEN_IO_FILE_H_

#include <fcntl.h>
#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "evergreen/io/errors.h"

namespace evergreen::io {
namespace internal {
struct FileState;
}

class File {
 public:
  // A closed File (every call but close() and fileno() throws FileError).
  File() = default;
  // Closes the descriptor (see close()).
  ~File();
  File(File&& other) noexcept = default;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // File::open()
  //
  // Opens `path` with open(2)'s `flags` (O_RDONLY, O_WRONLY | O_CREAT, ...;
  // O_CLOEXEC is always added) and, when it creates the file, `mode`.
  // Blocks the calling task. Throws FileError ("evergreen: open /x: No such
  // file or directory"; a directory opened for writing: "Is a directory").
  static File open(std::string_view path, int flags, mode_t mode = 0644);

  // File::read()
  //
  // Reads up to `n` bytes at the file offset and advances it; fewer only at
  // the end of the file, "" there. Blocks the calling task.
  std::string read(size_t n);

  // File::pread()
  //
  // Reads up to `n` bytes at `offset` (fewer only at the end of the file, ""
  // past it) without moving the file offset. Blocks the calling task.
  std::string pread(size_t n, off_t offset);

  // File::write()
  //
  // Writes all of `data` at the file offset (at the end with O_APPEND) and
  // advances it; returns data.size(). Throws FileError if the kernel refuses
  // part of it (ENOSPC, EIO, ...); the bytes before that are written. Blocks
  // the calling task.
  size_t write(std::string_view data);

  // File::pwrite()
  //
  // Writes all of `data` at `offset` without moving the file offset; returns
  // data.size(). Blocks the calling task.
  size_t pwrite(std::string_view data, off_t offset);

  // File::fsync()
  //
  // Flushes the file's data and metadata to the device (fsync(2)). Blocks the
  // calling task.
  void fsync();

  // File::size()
  //
  // The file's current size in bytes (fstat(2)). Blocks the calling task.
  off_t size();

  // File::close()
  //
  // Closes the descriptor; calls in flight on other tasks finish first (the
  // descriptor is closed after the last). Does not block; closing twice does
  // nothing.
  void close();

  // File::fileno()
  //
  // The descriptor, or -1 once closed.
  int fileno() const;

  // File::closed() / File::path()
  //
  // Whether close() was called (or the File was never opened, or moved
  // from); the path it was opened with.
  bool closed() const;
  const std::string& path() const;

 private:
  explicit File(std::shared_ptr<internal::FileState> state) : state_(std::move(state)) {}

  std::shared_ptr<internal::FileState> state_;
};

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_FILE_H_
