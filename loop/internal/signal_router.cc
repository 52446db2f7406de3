#include "evergreen/loop/internal/signal_router.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

namespace evergreen::internal {
namespace {

constexpr int kMaxLoopsPerSignal = 32;
constexpr int kSignalCount = 65;  // Linux: 1..64

struct SignalRoutes {
  std::atomic<int> pipe_fds[kMaxLoopsPerSignal];
  int route_count = 0;
  struct sigaction previous {};
};

struct Router {
  Router() {
    for (auto& routes : signals) {
      for (auto& fd : routes.pipe_fds) fd.store(-1, std::memory_order_relaxed);
    }
  }
  std::mutex mutex;  // guards route_count/previous and installation, never taken in the handler
  SignalRoutes signals[kSignalCount];
};

// Never destroyed: a signal may arrive while the process exits.
Router& router() {
  static Router* instance = new Router();
  return *instance;
}

// Runs in signal context, so it may only make async-signal-safe calls. The
// write is the raw system call, not write(): in a program that links //patch,
// write() is the interposed one, which is not safe here (it may look up libc's
// definition, taking the loader's lock and allocating).
void forward_signal(int signum) {
  int saved_errno = errno;
  if (signum > 0 && signum < kSignalCount) {
    unsigned char byte = static_cast<unsigned char>(signum);
    for (auto& slot : router().signals[signum].pipe_fds) {
      int fd = slot.load(std::memory_order_acquire);
      if (fd >= 0) {
        long written = syscall(SYS_write, fd, &byte, 1);
        (void)written;  // A full pipe already holds wake-ups for this loop.
      }
    }
  }
  errno = saved_errno;
}

// The signals the kernel raises for a fault in the instruction being run. A
// handler that only records the signal and returns resumes that instruction,
// which faults again: the process spins at full CPU instead of crashing.
bool is_synchronous_fault(int signum) {
  return signum == SIGSEGV || signum == SIGBUS || signum == SIGFPE || signum == SIGILL ||
         signum == SIGTRAP;
}

void check_signal(int signum) {
  if (signum <= 0 || signum >= kSignalCount || signum == SIGKILL || signum == SIGSTOP) {
    throw std::invalid_argument("evergreen: cannot handle signal " + std::to_string(signum) +
                                ": not a catchable signal number");
  }
  if (is_synchronous_fault(signum)) {
    const char* name = sigabbrev_np(signum);
    throw std::invalid_argument("evergreen: cannot handle signal " + std::to_string(signum) +
                                " (SIG" + (name ? name : "?") +
                                "): a synchronous fault signal cannot be handled by an event "
                                "loop (the faulting instruction would run again forever)");
  }
}

}  // namespace

void add_signal_route(int signum, int pipe_write_fd) {
  check_signal(signum);
  Router& r = router();
  std::lock_guard<std::mutex> lock(r.mutex);
  SignalRoutes& routes = r.signals[signum];
  int free_slot = -1;
  for (int i = 0; i < kMaxLoopsPerSignal; ++i) {
    int fd = routes.pipe_fds[i].load(std::memory_order_relaxed);
    if (fd == pipe_write_fd) return;
    if (fd < 0 && free_slot < 0) free_slot = i;
  }
  if (free_slot < 0) {
    throw std::runtime_error("evergreen: too many event loops handle signal " +
                             std::to_string(signum));
  }
  if (routes.route_count == 0) {
    struct sigaction action {};
    action.sa_handler = forward_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(signum, &action, &routes.previous) != 0) {
      throw std::invalid_argument("evergreen: cannot handle signal " + std::to_string(signum));
    }
  }
  routes.pipe_fds[free_slot].store(pipe_write_fd, std::memory_order_release);
  ++routes.route_count;
}

void remove_signal_route(int signum, int pipe_write_fd) {
  if (signum <= 0 || signum >= kSignalCount) return;
  Router& r = router();
  std::lock_guard<std::mutex> lock(r.mutex);
  SignalRoutes& routes = r.signals[signum];
  for (auto& slot : routes.pipe_fds) {
    if (slot.load(std::memory_order_relaxed) == pipe_write_fd) {
      slot.store(-1, std::memory_order_release);
      if (--routes.route_count == 0) sigaction(signum, &routes.previous, nullptr);
      return;
    }
  }
}

}  // namespace evergreen::internal
