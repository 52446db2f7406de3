// KernelOperation: a system call the loop's backend performs itself, without
// a thread and without a readiness wait in between: io_uring's
// IORING_OP_READ, IORING_OP_WRITE and IORING_OP_FSYNC for regular files
// (which readiness cannot wait for), and IORING_OP_RECV, IORING_OP_SEND,
// IORING_OP_ACCEPT, IORING_OP_CONNECT, IORING_OP_RECVMSG and IORING_OP_SENDMSG
// for sockets (io/internal/ring_call.h).
//
// The caller fills in the request, hands the operation to
// Poller::submit_operation() (through Scheduler::submit_operation()) and
// keeps it - and the buffer it names - alive and unmoved until on_complete()
// has run: the kernel writes into the buffer (a read) or reads from it (a
// write) at any time before its completion arrives. on_complete() runs once,
// on the loop's thread, from a later Poller::poll() or from
// Poller::finish_operations() or finish_operation(). An operation may be
// cancelled (Poller::cancel_operation()); it still completes (-ECANCELED, or
// its result if it finished first), and only then may its memory go.
#ifndef EVERGREEN_LOOP_INTERNAL_KERNEL_OPERATION_H_
#define EVERGREEN_LOOP_INTERNAL_KERNEL_OPERATION_H_

#include <cstdint>

namespace evergreen::internal {

struct KernelOperation {
  enum class Kind : uint8_t {
    kRead,
    kWrite,
    kFsync,
    kRecv,     // recv(fd, buffer, length, 0)
    kSend,     // send(fd, buffer, length, MSG_NOSIGNAL)
    kAccept,   // accept4(fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC): the new fd
    kConnect,  // connect(fd, buffer as a sockaddr, length)
    kRecvMsg,  // recvmsg(fd, buffer as a msghdr, MSG_TRUNC): a datagram's real length
    kSendMsg,  // sendmsg(fd, buffer as a msghdr, MSG_NOSIGNAL)
    // send(fd, buffer, length, MSG_NOSIGNAL | MSG_DONTWAIT): what the socket
    // takes now, or -EAGAIN; it never waits for room, as a non-blocking
    // send(2) does not.
    kSendNow,
  };
  static constexpr int kKinds = 10;

  virtual ~KernelOperation() = default;
  // `result`: what the system call returned (bytes, 0), or a negative errno.
  virtual void on_complete(int32_t result) = 0;

  Kind kind = Kind::kRead;
  int fd = -1;
  void* buffer = nullptr;  // read into / written from; null for kFsync
  uint32_t length = 0;
  int64_t offset = -1;  // -1: at the file offset, advancing it (read(2)/write(2))
  // Set by the poller: submitted and its on_complete() has not run yet.
  bool in_flight = false;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_KERNEL_OPERATION_H_
