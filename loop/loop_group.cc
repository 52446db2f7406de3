#include "evergreen/loop/loop_group.h"

#include <pthread.h>
#include <sched.h>

#include <cerrno>
#include <condition_variable>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/cross_thread_spin.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/task.h"

namespace evergreen {
namespace {

// The group and index of the thread running the caller; set once by each
// group thread for its whole life.
thread_local LoopGroup* this_threads_group = nullptr;
thread_local size_t this_threads_index = 0;

// The kernel keeps 15 characters of a thread's name: shorten the group's name
// rather than the index, which is what tells the threads apart.
std::string thread_name(const std::string& name, size_t index) {
  std::string suffix = "-" + std::to_string(index);
  constexpr size_t kMaxName = 15;
  size_t keep = suffix.size() >= kMaxName ? 0 : kMaxName - suffix.size();
  return name.substr(0, keep) + suffix;
}

// The CPUs this process may run on, in increasing order.
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "evergreen: LoopGroup: sched_getaffinity");
  }
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

}  // namespace

// What the constructor waits for: every thread has made its loop (or failed).
struct LoopGroupStartup {
  std::mutex mutex;
  std::condition_variable changed;
  size_t reported = 0;
  std::exception_ptr error;  // the first failure

  void report(std::exception_ptr failure) {
    std::lock_guard<std::mutex> lock(mutex);
    if (failure && !error) error = failure;
    ++reported;
    changed.notify_all();
  }
};

LoopGroup::LoopGroup(size_t threads, LoopGroupOptions options) : options_(std::move(options)) {
  std::vector<int> cpus = allowed_cpus();
  if (threads == 0) threads = cpus.size();
  loops_.resize(threads);
  LoopGroupStartup startup;
  for (size_t i = 0; i < threads; ++i) {
    int cpu = options_.pin_threads ? cpus[i % cpus.size()] : -1;
    try {
      loops_[i].thread = std::thread([this, i, cpu, &startup] { run_thread(i, cpu, startup); });
    } catch (...) {
      // The threads already started still report; count this one as failed.
      startup.report(std::current_exception());
    }
  }
  std::unique_lock<std::mutex> lock(startup.mutex);
  startup.changed.wait(lock, [&] { return startup.reported == threads; });
  if (startup.error) {
    std::exception_ptr error = startup.error;
    lock.unlock();
    stop();
    join();
    std::rethrow_exception(error);
  }
}

LoopGroup::~LoopGroup() {
  stop();
  join();
}

void LoopGroup::run_thread(size_t index, int cpu, LoopGroupStartup& startup) {
  this_threads_group = this;
  this_threads_index = index;
  std::optional<EventLoop> loop;
  try {
    std::string name = thread_name(options_.name, index);
    int named = pthread_setname_np(pthread_self(), name.c_str());
    if (named != 0) {
      throw std::system_error(named, std::generic_category(),
                              "evergreen: LoopGroup: naming thread '" + name + "'");
    }
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      int pinned = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
      if (pinned != 0) {
        throw std::system_error(pinned, std::generic_category(),
                                "evergreen: LoopGroup: pinning thread '" + name + "' to CPU " +
                                    std::to_string(cpu));
      }
    }
    LoopOptions loop_options = options_.loop;
    // Loops of a group exchange work: spin briefly before sleeping unless
    // told otherwise (cross_thread_spin.h).
    if (!loop_options.cross_thread_spin)
      loop_options.cross_thread_spin = internal::kLoopGroupSpinWindow;
    loop.emplace(loop_options);
    // Read by senders only after the constructor saw this report.
    loops_[index].queue = internal::Scheduler::current().cross_thread_queue();
  } catch (...) {
    startup.report(std::current_exception());
    return;
  }
  startup.report(nullptr);  // `startup` may be gone from here on
  loop->run_forever();
  // Kills the tasks still alive (TaskExit: their destructors run).
  loop->destroy();
}

void LoopGroup::send(size_t i, absl::AnyInvocable<void()> callback) {
  internal::Scheduler::call_from_thread(*loops_[i].queue, std::move(callback));
}

void LoopGroup::post(size_t i, absl::AnyInvocable<void()> fn) {
  if (i >= loops_.size()) {
    throw std::out_of_range("evergreen: LoopGroup::post(" + std::to_string(i) +
                            "): the group '" + options_.name + "' has " +
                            std::to_string(loops_.size()) + " loops");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) {
    throw std::runtime_error("evergreen: LoopGroup::post(" + std::to_string(i) +
                             "): the group '" + options_.name + "' was stopped");
  }
  send(i, [fn = std::move(fn)]() mutable { spawn(std::move(fn)); });
}

void LoopGroup::post_each(std::function<void(size_t)> fn) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) {
    throw std::runtime_error("evergreen: LoopGroup::post_each(): the group '" + options_.name +
                             "' was stopped");
  }
  for (size_t i = 0; i < loops_.size(); ++i) {
    send(i, [fn, i] { spawn(fn, i); });
  }
}

void LoopGroup::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  stopped_ = true;
  for (Loop& loop : loops_) {
    // A loop that failed to start has no queue; its thread has ended.
    if (loop.queue == nullptr) continue;
    // Queued behind every accepted post(): they are spawned, then killed.
    try {
      internal::Scheduler::call_from_thread(*loop.queue, [] { EventLoop::current().stop(); });
    } catch (const std::runtime_error&) {
      // That loop was already stopped and destroyed from inside (a task
      // called EventLoop::stop()): nothing left to stop.
    }
  }
}

void LoopGroup::join() {
  if (this_threads_group == this) {
    throw std::logic_error("evergreen: LoopGroup::join() called from thread " +
                           std::to_string(this_threads_index) + " of the group '" +
                           options_.name + "': a thread cannot wait for itself");
  }
  std::lock_guard<std::mutex> lock(join_mutex_);
  for (Loop& loop : loops_) {
    if (loop.thread.joinable()) loop.thread.join();
  }
}

LoopGroup* LoopGroup::current() { return this_threads_group; }

size_t LoopGroup::current_index() {
  if (this_threads_group == nullptr) {
    throw std::logic_error(
        "evergreen: LoopGroup::current_index() called on a thread that belongs to no LoopGroup");
  }
  return this_threads_index;
}

}  // namespace evergreen
