// evergreen::lib::select: readiness waits that park only the calling task.
//
// Each call first asks the real call with a zero timeout, so validation,
// errors and the reported events are always exactly libc's; only when
// nothing is ready does the task park on the fds' readiness, and on waking it
// asks again.
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <optional>

#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/poller.h"
#include "evergreen/patch/internal/blocking_call.h"
#include "evergreen/patch/internal/cooperative_wait.h"
#include "evergreen/patch/lib.h"
#include "evergreen/patch/patch.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen::lib::select {
namespace {

namespace original = patch::original;
using patch_internal::CooperativeWait;
using patch_internal::Interrupt;
using patch_internal::WaitOutcome;

// The loop's readiness bits for poll(2)'s `events` (the normal and band
// variants fold into plain input, priority and output: each wake-up is
// checked with the real call anyway).
uint32_t watched_events(short events) {
  uint32_t out = 0;
  if (events & (POLLIN | POLLRDNORM)) out |= internal::kPollIn;
  if (events & (POLLPRI | POLLRDBAND)) out |= internal::kPollPriority;
  if (events & (POLLOUT | POLLWRNORM | POLLWRBAND)) out |= internal::kPollOut;
  if (events & POLLRDHUP) out |= internal::kPollPeerClosed;
  return out;
}

std::optional<TimePoint> deadline_after(Duration timeout) {
  if (timeout < Duration::zero()) return std::nullopt;
  return ::evergreen::internal::loop_now() + timeout;
}

// Parks `task` until one of the watched fds may be ready, the deadline or an
// interruption. `watch_all(wait)` registers the fds; false means failure with
// errno set.
template <class WatchAll>
WaitOutcome park(internal::BlockingContext& task, std::optional<TimePoint> deadline,
                 WatchAll watch_all) {
  try {
    CooperativeWait wait(task, Interrupt::kWhilePending);
    if (!watch_all(wait)) return WaitOutcome::kFailed;
    if (deadline) wait.set_deadline(*deadline);
    return wait.wait();
  } catch (const std::bad_alloc&) {
    errno = ENOMEM;
    return WaitOutcome::kFailed;
  }
}

// Runs check() (the real call with a zero timeout) until it reports
// something, parking in between. check() returns > 0 when ready, 0 when not,
// < 0 on error. Returns check()'s result, 0 on timeout, -1 with errno.
template <class Check, class WatchAll>
int wait_until(internal::BlockingContext& task, std::optional<TimePoint> deadline, Check check,
               WatchAll watch_all) {
  patch_internal::SavedErrno saved;
  for (;;) {
    int ready = saved.restore(check());
    if (ready != 0) return ready;
    switch (park(task, deadline, watch_all)) {
      case WaitOutcome::kReady:
      case WaitOutcome::kClosed:
        continue;  // look again; a wake-up may be spurious
      case WaitOutcome::kTimedOut:
        return saved.restore(check());
      case WaitOutcome::kInterrupted:
        // Not EINTR, which callers retry at once (a spin, since the
        // exception stays pending): a failure they give up on.
        errno = patch_internal::interrupted_errno(task);
        return -1;
      case WaitOutcome::kFailed:
        return -1;
    }
  }
}

// Watches `fd` unless epoll cannot (a regular file: then poll() never waits
// on it anyway). False with errno set on any other failure.
bool watch_fd(CooperativeWait& wait, int fd, uint32_t events) {
  if (wait.watch(fd, events)) return true;
  return errno == EPERM;
}

}  // namespace

int poll(pollfd* fds, nfds_t count, int timeout_ms) {
  internal::BlockingContext* task = patch_internal::current_task();
  if (task == nullptr || timeout_ms == 0) return original::poll(fds, count, timeout_ms);
  internal::WaitLabel label(*task, "poll");
  return wait_until(
      *task, deadline_after(std::chrono::milliseconds(timeout_ms)),
      [&] { return original::poll(fds, count, 0); },
      [&](CooperativeWait& wait) {
        for (nfds_t i = 0; i < count; ++i) {
          if (fds[i].fd < 0) continue;
          uint32_t events = watched_events(fds[i].events);
          if (!watch_fd(wait, fds[i].fd, events)) return false;
        }
        return true;
      });
}

int select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, timeval* timeout) {
  internal::BlockingContext* task = patch_internal::current_task();
  bool zero_timeout = timeout != nullptr && timeout->tv_sec == 0 && timeout->tv_usec == 0;
  // Beyond FD_SETSIZE the sets are the caller's own larger arrays, which this
  // code would have to guess the size of: libc handles those.
  if (task == nullptr || zero_timeout || nfds < 0 || nfds > FD_SETSIZE) {
    return original::select(nfds, readfds, writefds, exceptfds, timeout);
  }
  if (timeout != nullptr && (timeout->tv_sec < 0 || timeout->tv_usec < 0)) {
    errno = EINVAL;
    return -1;
  }
  internal::WaitLabel label(*task, "select");
  std::optional<TimePoint> deadline;
  if (timeout != nullptr) {
    deadline = ::evergreen::internal::loop_now() + std::chrono::seconds(timeout->tv_sec) +
               std::chrono::microseconds(timeout->tv_usec);
  }
  // The sets asked about; each check works on fresh copies.
  fd_set wanted[3];
  fd_set* user_sets[3] = {readfds, writefds, exceptfds};
  for (int i = 0; i < 3; ++i) {
    if (user_sets[i] != nullptr) std::memcpy(&wanted[i], user_sets[i], sizeof(fd_set));
  }
  fd_set result[3];
  auto check = [&] {
    fd_set* sets[3] = {nullptr, nullptr, nullptr};
    for (int i = 0; i < 3; ++i) {
      if (user_sets[i] == nullptr) continue;
      std::memcpy(&result[i], &wanted[i], sizeof(fd_set));
      sets[i] = &result[i];
    }
    timeval zero{0, 0};
    return original::select(nfds, sets[0], sets[1], sets[2], &zero);
  };
  int ready = wait_until(*task, deadline, check, [&](CooperativeWait& wait) {
    for (int fd = 0; fd < nfds; ++fd) {
      uint32_t events = 0;
      if (readfds != nullptr && FD_ISSET(fd, &wanted[0])) events |= internal::kPollIn;
      if (writefds != nullptr && FD_ISSET(fd, &wanted[1])) events |= internal::kPollOut;
      if (exceptfds != nullptr && FD_ISSET(fd, &wanted[2])) events |= internal::kPollPriority;
      if (events != 0 && !watch_fd(wait, fd, events)) return false;
    }
    return true;
  });
  if (ready >= 0) {
    // Linux reports the outcome in the sets and the time left in *timeout.
    for (int i = 0; i < 3; ++i) {
      if (user_sets[i] != nullptr) std::memcpy(user_sets[i], &result[i], sizeof(fd_set));
    }
  }
  if (timeout != nullptr) {
    auto left = *deadline - ::evergreen::internal::loop_now();
    if (left < Duration::zero() || ready == 0) left = Duration::zero();
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
    timeout->tv_sec = micros / 1'000'000;
    timeout->tv_usec = micros % 1'000'000;
  }
  return ready;
}

int epoll_wait(int epfd, epoll_event* events, int max_events, int timeout_ms) {
  internal::BlockingContext* task = patch_internal::current_task();
  if (task == nullptr || timeout_ms == 0) {
    return original::epoll_wait(epfd, events, max_events, timeout_ms);
  }
  internal::WaitLabel label(*task, "epoll_wait");
  // An epoll fd is itself readable while it has events ready.
  return wait_until(
      *task, deadline_after(std::chrono::milliseconds(timeout_ms)),
      [&] { return original::epoll_wait(epfd, events, max_events, 0); },
      [&](CooperativeWait& wait) { return wait.watch(epfd, internal::kPollIn); });
}

}  // namespace evergreen::lib::select
