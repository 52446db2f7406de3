#include "evergreen/loop/internal/stall_watchdog.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
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
#include "evergreen/loop/internal/report.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/stack_sample.h"

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

// --- The dump signal's handler (async-signal-safe: atomics and a raw system
// call) ---------------------------------------------------------------------

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
      const uint64_t ready_budget = watch->ready_budget.load(std::memory_order_relaxed);
      const bool busy = watch->busy.load(std::memory_order_relaxed);
      if (threshold.count() <= 0 || !busy || turns != watch->seen_turns ||
          ready_budget != watch->seen_ready_budget ||
          watch->seen_since == std::chrono::steady_clock::time_point{}) {
        watch->seen_turns = turns;
        watch->seen_ready_budget = ready_budget;
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
    install_stack_sample_handler();
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
  set_sampled_watch(&watch);
}

void unregister_loop_watch(LoopWatch& watch) {
  Watchdog& state = watchdog();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!watch.is_linked()) return;
  state.watches.remove(&watch);
  if (sampled_watch() == &watch) set_sampled_watch(nullptr);
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
