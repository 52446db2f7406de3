#include "evergreen/loop/internal/stack_sample.h"

#include <execinfo.h>
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/stack_trace.h"
#include "evergreen/loop/task.h"

namespace evergreen::internal {
namespace {

thread_local LoopWatch* this_thread_watch = nullptr;

// --- The handler (async-signal-safe: atomics, backtrace() after it was warmed
// up, plain copies) -----------------------------------------------------------

void copy_text(char* out, size_t size, size_t& used, const char* text) {
  while (*text != '\0' && used + 1 < size) out[used++] = *text++;
  out[used] = '\0';
}

const void* interrupted_pc(void* context) {
  const auto* uc = static_cast<const ucontext_t*>(context);
#if defined(__x86_64__)
  return reinterpret_cast<const void*>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return reinterpret_cast<const void*>(uc->uc_mcontext.pc);
#else
  (void)uc;
  return nullptr;
#endif
}

void on_sample_signal(int, siginfo_t*, void* context) {
  const int saved_errno = errno;
  LoopWatch* watch = this_thread_watch;
  int expected = LoopWatch::kRequested;
  if (watch != nullptr &&
      watch->sample_state.compare_exchange_strong(expected, LoopWatch::kWriting,
                                                  std::memory_order_acquire)) {
    void* frames[LoopWatch::kMaxFrames + 8];
    const int count = ::backtrace(frames, LoopWatch::kMaxFrames + 8);
    // Drop this handler's frames (and a sanitizer's around it): the stack
    // starts where the signal interrupted the thread, when the unwinder shows it.
    const void* pc = interrupted_pc(context);
    int first = count > 0 ? 1 : 0;
    for (int i = 0; i < count; ++i) {
      if (frames[i] == pc) {
        first = i;
        break;
      }
    }
    watch->frame_count = std::min(count - first, LoopWatch::kMaxFrames);
    for (int i = 0; i < watch->frame_count; ++i) watch->frames[i] = frames[first + i];
    size_t used = 0;
    const BlockingContext* running = *watch->running;
    if (running == nullptr) {
      copy_text(watch->running_name, sizeof watch->running_name, used, "a loop callback");
    } else if (running->task == nullptr) {
      copy_text(watch->running_name, sizeof watch->running_name, used, "the main context");
    } else {
      copy_text(watch->running_name, sizeof watch->running_name, used, "task '");
      // Not name(): that may format (allocate) a default name, and this is a
      // signal handler.
      used += copy_task_name(*running->task, watch->running_name + used,
                             sizeof watch->running_name - 1 - used);
      watch->running_name[used] = '\0';
      copy_text(watch->running_name, sizeof watch->running_name, used, "'");
    }
    watch->sample_state.store(LoopWatch::kTaken, std::memory_order_release);
  }
  errno = saved_errno;
}

// --- Reading a loop thread from another thread ------------------------------

const char* syscall_name(long number) {
  switch (number) {
    case SYS_read: return "read";
    case SYS_write: return "write";
    case SYS_readv: return "readv";
    case SYS_writev: return "writev";
    case SYS_pread64: return "pread64";
    case SYS_pwrite64: return "pwrite64";
    case SYS_openat: return "openat";
    case SYS_nanosleep: return "nanosleep";
    case SYS_clock_nanosleep: return "clock_nanosleep";
    case SYS_ppoll: return "ppoll";
    case SYS_pselect6: return "pselect6";
    case SYS_epoll_pwait: return "epoll_pwait";
    case SYS_futex: return "futex";
    case SYS_accept: return "accept";
    case SYS_accept4: return "accept4";
    case SYS_connect: return "connect";
    case SYS_recvfrom: return "recvfrom";
    case SYS_sendto: return "sendto";
    case SYS_recvmsg: return "recvmsg";
    case SYS_sendmsg: return "sendmsg";
    case SYS_wait4: return "wait4";
    case SYS_waitid: return "waitid";
    case SYS_flock: return "flock";
    case SYS_fcntl: return "fcntl";
    case SYS_fsync: return "fsync";
    case SYS_fdatasync: return "fdatasync";
    case SYS_io_uring_enter: return "io_uring_enter";
#ifdef SYS_poll
    case SYS_poll: return "poll";
#endif
#ifdef SYS_select
    case SYS_select: return "select";
#endif
#ifdef SYS_epoll_wait
    case SYS_epoll_wait: return "epoll_wait";
#endif
#ifdef SYS_pause
    case SYS_pause: return "pause";
#endif
#ifdef SYS_open
    case SYS_open: return "open";
#endif
    default: return nullptr;
  }
}

// The system call thread `thread_id` is blocked in, "" if it runs user code
// (or the kernel does not say).
std::string blocking_syscall(pid_t thread_id) {
  const std::string path = "/proc/self/task/" + std::to_string(thread_id) + "/syscall";
  FILE* file = std::fopen(path.c_str(), "re");
  if (file == nullptr) return "";
  char text[64] = {};
  const size_t length = std::fread(text, 1, sizeof text - 1, file);
  std::fclose(file);
  text[length] = '\0';
  char* end = nullptr;
  const long number = std::strtol(text, &end, 10);
  if (end == text || number < 0) return "";  // "running", or "-1 ..." (not in a call)
  const char* name = syscall_name(number);
  return name != nullptr ? name : "system call " + std::to_string(number);
}

}  // namespace

Sample sample(LoopWatch& watch) {
  Sample result;
  result.syscall = blocking_syscall(watch.thread_id);
  watch.sample_state.store(LoopWatch::kRequested, std::memory_order_release);
  if (pthread_kill(watch.thread, stack_sample_signal()) != 0) {
    watch.sample_state.store(LoopWatch::kIdle, std::memory_order_relaxed);
    return result;
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (watch.sample_state.load(std::memory_order_acquire) != LoopWatch::kTaken) {
    if (std::chrono::steady_clock::now() >= give_up) {
      int expected = LoopWatch::kRequested;
      // The handler has not started: withdraw the request. If it has, it
      // finishes in microseconds.
      if (watch.sample_state.compare_exchange_strong(expected, LoopWatch::kIdle)) return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  result.running = watch.running_name;
  for (int i = 0; i < watch.frame_count; ++i) {
    // The first frame is the interrupted instruction, the others return addresses.
    result.stack.push_back(symbolise(watch.frames[i], /*return_address=*/i != 0));
  }
  watch.sample_state.store(LoopWatch::kIdle, std::memory_order_relaxed);
  return result;
}


void install_stack_sample_handler() {
  // backtrace() loads the unwinder on first use, which is not safe inside a
  // signal handler: load it now.
  void* warm[2];
  (void)::backtrace(warm, 2);
  struct sigaction action {};
  action.sa_sigaction = on_sample_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(stack_sample_signal(), &action, nullptr);
}

void set_sampled_watch(LoopWatch* watch) { this_thread_watch = watch; }
LoopWatch* sampled_watch() { return this_thread_watch; }

}  // namespace evergreen::internal
