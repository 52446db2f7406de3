#include "evergreen/io/internal/file_call.h"

#include <errno.h>
#include <unistd.h>

#include <memory>

#include "evergreen/io/internal/file_pool.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/scheduler.h"

namespace evergreen::io::internal {
namespace {

using evergreen::internal::BlockingContext;
using evergreen::internal::KernelOperation;
using evergreen::internal::Scheduler;

// The call as a ring operation; lives on the caller's stack, which stays put
// until on_complete() has run (perform_on_ring() does not return before).
struct RingFileCall final : KernelOperation {
  void on_complete(int32_t value) override {
    result = value;
    completed = true;
    if (waiter != nullptr) evergreen::internal::wake(*waiter);
  }

  BlockingContext* waiter = nullptr;  // null once the caller waits outright
  int32_t result = 0;
  bool completed = false;
};

ssize_t perform_on_ring(BlockingContext& self, Scheduler& loop, const FileCall& call) {
  RingFileCall operation;
  operation.kind = call.kind;
  operation.fd = call.fd;
  operation.buffer = call.buffer;
  operation.length = static_cast<uint32_t>(call.length);
  operation.offset = call.offset;
  operation.waiter = &self;
  Scheduler::KeepAlive keep_alive(loop);
  loop.submit_operation(operation);
  // Parking is no longer possible: block the thread in the ring until the
  // kernel is done with the buffer.
  auto wait_outright = [&] {
    operation.waiter = nullptr;
    loop.finish_operations();
  };
  const std::shared_ptr<evergreen::internal::CrossThreadQueue>& queue = loop.cross_thread_queue();
  while (!operation.completed) {
    try {
      evergreen::internal::park(self);
    } catch (...) {
      // The main context's loop stopped under it.
      wait_outright();
      throw;
    }
    if (operation.completed) break;
    // Woken by a kill or Timeout: keep waiting, unless the loop is being
    // destroyed (it closes its queue first) and will not poll again.
    if (queue->closed()) wait_outright();
  }
  return operation.result;
}

ssize_t perform_on_pool(BlockingContext& self, const FileCall& call) {
  ssize_t result = 0;
  run_off_loop_leaving_pending(self, [&] {
    switch (call.kind) {
      case FileCall::Kind::kRead:
        result = call.offset < 0 ? ::read(call.fd, call.buffer, call.length)
                                 : ::pread(call.fd, call.buffer, call.length, call.offset);
        break;
      case FileCall::Kind::kWrite:
        result = call.offset < 0 ? ::write(call.fd, call.buffer, call.length)
                                 : ::pwrite(call.fd, call.buffer, call.length, call.offset);
        break;
      case FileCall::Kind::kFsync:
        result = ::fsync(call.fd);
        break;
      default:  // the socket kinds never come here (ring_call.h)
        errno = EINVAL;
        result = -1;
        break;
    }
    if (result < 0) result = -errno;  // the pool thread's errno
  });
  return result;
}

}  // namespace

ssize_t perform_file_call(BlockingContext& self, const FileCall& call) {
  Scheduler& loop = *self.loop;
  if (loop.performs_operations()) return perform_on_ring(self, loop, call);
  return perform_on_pool(self, call);
}

}  // namespace evergreen::io::internal
