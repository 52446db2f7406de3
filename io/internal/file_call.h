// One system call on a regular file (read, write, fsync), blocking only the
// calling context: io_uring's own operation where the loop's backend
// performs them (Scheduler::performs_operations()), the file pool
// (file_pool.h) otherwise. io::File and //patch's interposed read, write,
// pread and pwrite go through here, so both take the same path on each
// backend.
//
// Like run_off_loop_leaving_pending(), the wait is uninterruptible: a kill or
// Timeout delivered meanwhile stays pending on the caller (raised at its next
// suspension point, or by the caller right after), and the call returns only
// once the kernel is done with the buffer - so the buffer may be the
// caller's own memory. If the caller cannot park any more (its loop is being
// destroyed, or a main context's loop stopped), the thread blocks until the
// operation has completed before returning or throwing.
#ifndef EVERGREEN_IO_INTERNAL_FILE_CALL_H_
#define EVERGREEN_IO_INTERNAL_FILE_CALL_H_

#include <sys/types.h>

#include <cstddef>

#include "evergreen/loop/internal/kernel_operation.h"

namespace evergreen::internal {
struct BlockingContext;
}  // namespace evergreen::internal

namespace evergreen::io::internal {

// The most one call asks the kernel for (it caps a transfer at just under
// 2 GiB anyway, and an io_uring length is 32 bits).
inline constexpr size_t kMaxFileTransfer = size_t{1} << 30;

struct FileCall {
  using Kind = evergreen::internal::KernelOperation::Kind;

  Kind kind = Kind::kRead;
  int fd = -1;
  void* buffer = nullptr;  // null for kFsync
  size_t length = 0;       // at most kMaxFileTransfer
  off_t offset = -1;       // -1: at the file offset, advancing it; else >= 0
};

// Performs `call` once while `self` (the running context) parks, and returns
// what the system call returned (bytes; 0) or a negative errno. A short
// count is possible, as with the system call. Throws (std::system_error,
// std::bad_alloc) only before anything was started, or what parking the main
// context throws, after the call has completed.
ssize_t perform_file_call(evergreen::internal::BlockingContext& self, const FileCall& call);

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_FILE_CALL_H_
