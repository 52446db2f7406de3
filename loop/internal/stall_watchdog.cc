#include "evergreen/loop/internal/stall_watchdog.h"

#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "evergreen/loop/debug.h"
#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/report.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/stack_trace.h"
#include "evergreen/loop/task.h"

namespace evergreen::internal {
namespace {

// The watchdog's state: created on first use and never freed, so the detached
// thread and late signal handlers never see it destroyed at exit.
struct Watchdog {
  std::mutex mutex;  // the list and every watch's watchdog fields
  IntrusiveList<LoopWatch> watches;
  uint64_t next_serial = 1;
  uint64_t dump_generation = 0;
  std::once_flag started;
};

}  // namespace
}  // namespace evergreen::internal

// Where tools/gdb/evergreen.py finds every loop of a live process or a core
// file, by this unmangled name: the watchdog's list of LoopWatch (its first
// word is the list's head). Null until the first loop registers.
extern "C" {
[[gnu::used]] void* evergreen_gdb_loop_watches = nullptr;
}

namespace evergreen::internal {
namespace {

Watchdog& watchdog() {
  static Watchdog* state = [] {
    auto* created = new Watchdog;
    evergreen_gdb_loop_watches = &created->watches;
    return created;
  }();
  return *state;
}

// Read by the signal handlers, so plain atomics rather than members.
std::atomic<int> wake_write_fd{-1};
std::atomic<bool> dump_requested{false};
int wake_read_fd = -1;  // the watchdog thread's end

thread_local LoopWatch* this_thread_watch = nullptr;

// --- Signal handlers (async-signal-safe: atomics, raw system calls, backtrace()
// after it was warmed up, plain copies) ---------------------------------------

void wake_watchdog() {
  const int fd = wake_write_fd.load(std::memory_order_acquire);
  if (fd < 0) return;
  const char byte = 'w';
  // The raw system call: //patch may interpose write(). A full pipe already
  // holds a wake-up.
  (void)syscall(SYS_write, fd, &byte, 1);
}

void on_dump_signal(int) {
  const int saved_errno = errno;
  dump_requested.store(true, std::memory_order_release);
  wake_watchdog();
  errno = saved_errno;
}

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
      copy_text(watch->running_name, sizeof watch->running_name, used,
                running->task->name().c_str());
      copy_text(watch->running_name, sizeof watch->running_name, used, "'");
    }
    watch->sample_state.store(LoopWatch::kTaken, std::memory_order_release);
  }
  errno = saved_errno;
}

// --- Reading a loop thread from the watchdog ----------------------------------

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

struct Sample {
  std::string running;             // "task 'x'", "a loop callback", "the main context"
  std::string syscall;             // "" unless blocked in one
  std::vector<std::string> stack;  // innermost first; empty if not taken
};

// Watchdog thread, under the mutex: what `watch`'s thread is doing now.
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

std::string seconds(std::chrono::nanoseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3fs", std::chrono::duration<double>(duration).count());
  return text;
}

std::string describe_stack(const Sample& taken) {
  if (taken.stack.empty()) return "stack: not captured (the thread did not answer the signal)";
  std::string text = "stack:";
  for (size_t i = 0; i < taken.stack.size(); ++i) {
    text += " #" + std::to_string(i) + " " + taken.stack[i];
  }
  return text;
}

void write_stderr(const std::string& text) {
  size_t written = 0;
  while (written < text.size()) {
    const long result = syscall(SYS_write, 2, text.data() + written, text.size() - written);
    if (result < 0 && errno == EINTR) continue;
    if (result <= 0) return;
    written += static_cast<size_t>(result);
  }
}

// --- The watchdog thread ----------------------------------------------------------

// Under the mutex: how long to wait before looking at the loops again.
int poll_interval_ms(Watchdog& state) {
  int64_t smallest = 0;
  for (LoopWatch* watch = state.watches.front(); watch != nullptr;
       watch = IntrusiveList<LoopWatch>::next(watch)) {
    const int64_t threshold = watch->stall_threshold_ns.load(std::memory_order_relaxed);
    if (threshold > 0 && (smallest == 0 || threshold < smallest)) smallest = threshold;
  }
  if (smallest == 0) return -1;
  return static_cast<int>(std::clamp<int64_t>(smallest / 4 / 1'000'000, 1, 250));
}

void check_stalls(Watchdog& state) {
  std::vector<std::string> reports;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    const auto now = std::chrono::steady_clock::now();
    for (LoopWatch* watch = state.watches.front(); watch != nullptr;
         watch = IntrusiveList<LoopWatch>::next(watch)) {
      const std::chrono::nanoseconds threshold(
          watch->stall_threshold_ns.load(std::memory_order_relaxed));
      const uint64_t turns = watch->turns.load(std::memory_order_relaxed);
      const bool busy = watch->busy.load(std::memory_order_relaxed);
      if (threshold.count() <= 0 || !busy || turns != watch->seen_turns ||
          watch->seen_since == std::chrono::steady_clock::time_point{}) {
        watch->seen_turns = turns;
        watch->seen_since = now;
        watch->stall_reported = false;
        continue;
      }
      if (watch->stall_reported || now - watch->seen_since < threshold) continue;
      watch->stall_reported = true;
      const Sample taken = sample(*watch);
      // The sample's wait counts too: the report says how long at least.
      const auto stalled = std::chrono::steady_clock::now() - watch->seen_since;
      std::string message = "stall: " + (taken.running.empty() ? "the loop" : taken.running) +
                            " on thread " + std::to_string(watch->thread_id) + " has run for " +
                            seconds(stalled) + " without yielding (threshold " +
                            seconds(threshold) + ")";
      if (!taken.syscall.empty()) message += ", inside system call " + taken.syscall;
      reports.push_back(message + "; " + describe_stack(taken));
    }
  }
  // Outside the mutex: a handler may call set_stall_threshold().
  for (const std::string& message : reports) report_message(message);
}

void dump_all_loops(Watchdog& state) {
  struct Asked {
    LoopWatch* watch;
    uint64_t serial;
  };
  std::vector<Asked> asked;
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    generation = ++state.dump_generation;
    for (LoopWatch* watch = state.watches.front(); watch != nullptr;
         watch = IntrusiveList<LoopWatch>::next(watch)) {
      try {
        Scheduler::call_from_thread(*watch->queue, [watch, generation] {
          std::ostringstream dump;
          dump << "evergreen: task dump of the loop on thread " << watch->thread_id << '\n';
          dump_tasks(dump);
          write_stderr(dump.str());
          watch->dump_answered.store(generation, std::memory_order_release);
        });
        asked.push_back({watch, watch->serial});
      } catch (const std::runtime_error&) {
        // Destroyed meanwhile: nothing to dump.
      }
    }
  }
  // Which of `asked` is still registered and has not answered (under the mutex).
  auto unanswered = [&](const Asked& entry) {
    for (LoopWatch* watch = state.watches.front(); watch != nullptr;
         watch = IntrusiveList<LoopWatch>::next(watch)) {
      if (watch == entry.watch && watch->serial == entry.serial) {
        return watch->dump_answered.load(std::memory_order_acquire) < generation;
      }
    }
    return false;
  };
  const auto give_up = std::chrono::steady_clock::now() + kDumpAnswerTimeout;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(state.mutex);
      if (std::none_of(asked.begin(), asked.end(), unanswered)) return;
      if (std::chrono::steady_clock::now() >= give_up) {
        std::string text;
        for (const Asked& entry : asked) {
          if (!unanswered(entry)) continue;
          const Sample taken = sample(*entry.watch);
          text += "evergreen: the loop on thread " + std::to_string(entry.watch->thread_id) +
                  " did not answer the task dump within " +
                  std::to_string(kDumpAnswerTimeout.count()) +
                  "ms (stuck, or not running): it runs " +
                  (taken.running.empty() ? "(unknown)" : taken.running);
          if (!taken.syscall.empty()) text += ", inside system call " + taken.syscall;
          text += "\n";
          for (size_t i = 0; i < taken.stack.size(); ++i) {
            text += "    #" + std::to_string(i) + " " + taken.stack[i] + "\n";
          }
        }
        write_stderr(text);
        return;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void watchdog_main() {
  // Signals are for the program's threads: the dump signal must reach a
  // handler promptly, and nothing here expects EINTR.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  Watchdog& state = watchdog();
  for (;;) {
    int timeout_ms;
    {
      std::lock_guard<std::mutex> lock(state.mutex);
      timeout_ms = poll_interval_ms(state);
    }
    pollfd wake{wake_read_fd, POLLIN, 0};
    timespec timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1'000'000L};
    (void)syscall(SYS_ppoll, &wake, 1, timeout_ms < 0 ? nullptr : &timeout, nullptr, 0);
    char drained[64];
    while (syscall(SYS_read, wake_read_fd, drained, sizeof drained) > 0) {
    }
    if (dump_requested.exchange(false, std::memory_order_acq_rel)) dump_all_loops(state);
    check_stalls(state);
  }
}

void ensure_started() {
  std::call_once(watchdog().started, [] {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
      throw std::system_error(errno, std::generic_category(),
                              "evergreen: cannot start the stall watchdog: pipe2");
    }
    wake_read_fd = fds[0];
    wake_write_fd.store(fds[1], std::memory_order_release);
    // backtrace() loads the unwinder on first use, which is not safe inside
    // a signal handler: load it now.
    void* warm[2];
    (void)::backtrace(warm, 2);
    struct sigaction action {};
    action.sa_sigaction = on_sample_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(stack_sample_signal(), &action, nullptr);
    std::thread(watchdog_main).detach();
  });
}

}  // namespace

void register_loop_watch(LoopWatch& watch, BlockingContext* const* running,
                         std::shared_ptr<CrossThreadQueue> queue) {
  Watchdog& state = watchdog();
  std::lock_guard<std::mutex> lock(state.mutex);
  watch.thread = pthread_self();
  watch.thread_id = static_cast<pid_t>(syscall(SYS_gettid));
  watch.serial = state.next_serial++;
  watch.running = running;
  watch.queue = std::move(queue);
  state.watches.push_back(&watch);
  this_thread_watch = &watch;
}

void unregister_loop_watch(LoopWatch& watch) {
  Watchdog& state = watchdog();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!watch.is_linked()) return;
  state.watches.remove(&watch);
  if (this_thread_watch == &watch) this_thread_watch = nullptr;
}

void set_stall_threshold(LoopWatch& watch, std::optional<Duration> threshold) {
  if (threshold && *threshold <= Duration::zero()) {
    throw std::invalid_argument("evergreen: EventLoop::set_stall_threshold(): the threshold must "
                                "be positive (std::nullopt turns the stall detector off), got " +
                                std::to_string(threshold->count()) + "ns");
  }
  if (threshold) ensure_started();
  watch.stall_threshold_ns.store(threshold ? threshold->count() : 0, std::memory_order_relaxed);
  wake_watchdog();  // it recomputes how often to look
}

std::optional<Duration> stall_threshold_from_environment() {
  const char* value = std::getenv("EVERGREEN_STALL_MS");
  if (value == nullptr || *value == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long milliseconds = std::strtoll(value, &end, 10);
  if (*end != '\0' || errno != 0 || milliseconds <= 0 || milliseconds > 86'400'000LL) {
    throw std::invalid_argument("evergreen: EVERGREEN_STALL_MS=\"" + std::string(value) +
                                "\" is not a positive whole number of milliseconds (at most a "
                                "day)");
  }
  return std::chrono::milliseconds(milliseconds);
}

void install_dump_signal(int signum) {
  if (signum <= 0 || signum >= NSIG || signum == SIGKILL || signum == SIGSTOP ||
      signum == SIGSEGV || signum == SIGBUS || signum == SIGFPE || signum == SIGILL ||
      signum == SIGTRAP || signum == stack_sample_signal()) {
    throw std::invalid_argument("evergreen: install_task_dump_handler(" + std::to_string(signum) +
                                "): not a signal that can ask for a dump (invalid, uncatchable, "
                                "a synchronous fault, or the stack-sample signal SIGRTMAX-2)");
  }
  ensure_started();
  struct sigaction action {};
  action.sa_handler = on_dump_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (sigaction(signum, &action, nullptr) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "evergreen: install_task_dump_handler(" + std::to_string(signum) +
                                "): sigaction");
  }
}

}  // namespace evergreen::internal
