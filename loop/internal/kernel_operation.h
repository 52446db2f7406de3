// KernelOperation: a file system call the loop's backend performs itself,
// without a thread (io_uring's IORING_OP_READ, IORING_OP_WRITE and
// IORING_OP_FSYNC), for regular files, which readiness cannot wait for.
//
// The caller fills in the request, hands the operation to
// Poller::submit_operation() (through Scheduler::submit_operation()) and
// keeps it - and the buffer it names - alive and unmoved until on_complete()
// has run: the kernel writes into the buffer (a read) or reads from it (a
// write) at any time before its completion arrives. on_complete() runs once,
// on the loop's thread, from a later Poller::poll() or from
// Poller::finish_operations().
#ifndef EVERGREEN_LOOP_INTERNAL_KERNEL_OPERATION_H_
#define EVERGREEN_LOOP_INTERNAL_KERNEL_OPERATION_H_

#include <cstdint>

namespace evergreen::internal {

struct KernelOperation {
  enum class Kind : uint8_t { kRead, kWrite, kFsync };

  virtual ~KernelOperation() = default;
  // `result`: what the system call returned (bytes, 0), or a negative errno.
  virtual void on_complete(int32_t result) = 0;

  Kind kind = Kind::kRead;
  int fd = -1;
  void* buffer = nullptr;  // read into / written from; null for kFsync
  uint32_t length = 0;
  int64_t offset = -1;  // -1: at the file offset, advancing it (read(2)/write(2))
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_KERNEL_OPERATION_H_
