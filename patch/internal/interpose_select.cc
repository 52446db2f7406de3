// The interposed readiness waits (see interpose_socket.cc for how
// interposition works). Pass-throughs until patch() switches the select
// module on.
#undef _FORTIFY_SOURCE  // __poll_chk is defined here

#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "evergreen/patch/internal/modules.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"

namespace {

namespace original = evergreen::patch::original;
namespace cooperative = evergreen::lib::select;

bool on() { return evergreen::patch_internal::patched(evergreen::patch_internal::Module::kSelect); }

}  // namespace

extern "C" {

[[noreturn]] void __chk_fail(void);

int select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, timeval* timeout) {
  return on() ? cooperative::select(nfds, readfds, writefds, exceptfds, timeout)
              : original::select(nfds, readfds, writefds, exceptfds, timeout);
}

int poll(pollfd* fds, nfds_t count, int timeout_ms) {
  return on() ? cooperative::poll(fds, count, timeout_ms) : original::poll(fds, count, timeout_ms);
}

int __poll_chk(pollfd* fds, nfds_t count, int timeout_ms, size_t fds_size) {
  if (fds_size / sizeof(pollfd) < count) __chk_fail();
  return poll(fds, count, timeout_ms);
}

int epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms) {
  return on() ? cooperative::epoll_wait(epfd, events, max_events, timeout_ms)
              : original::epoll_wait(epfd, events, max_events, timeout_ms);
}

}  // extern "C"
