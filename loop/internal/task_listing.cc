#include "evergreen/loop/internal/task_listing.h"

#include <execinfo.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ostream>
#include <set>

#include "evergreen/loop/internal/coarse_clock.h"
#include "evergreen/loop/internal/loop_core.h"
#include "evergreen/loop/internal/stack_trace.h"
#include "evergreen/loop/task.h"

namespace evergreen::internal {
namespace {

constexpr size_t kMaxFrames = 64;

// The running task is the caller: its stack is the one being executed.
// backtrace()'s first frame is this function; list_tasks_of() and the public
// entry points follow, and are kept, since they show who asked.
std::vector<std::string> running_stack() {
  void* frames[kMaxFrames];
  const int count = ::backtrace(frames, static_cast<int>(kMaxFrames));
  std::vector<std::string> stack;
  for (int i = 1; i < count; ++i) stack.push_back(symbolise(frames[i], /*return_address=*/true));
  return stack;
}

std::vector<std::string> suspended_symbols(const Fiber& fiber) {
  std::vector<std::string> stack;
  bool first = true;
  for (const void* address : suspended_stack(fiber, kMaxFrames)) {
    // The first is where the fiber resumes, not a return address.
    stack.push_back(symbolise(address, /*return_address=*/!first));
    first = false;
  }
  return stack;
}

std::string name_of(const BlockingContext& context) {
  return context.task != nullptr ? "'" + context.task->name() + "'" : "the main context";
}

// Each cycle of blocked contexts waiting for one another (waits_for), once,
// starting from its member that started first: "  cycle: 'a' joins 'b'
// joins 'a'" style, "'a' (join) -> 'b' (join) -> 'a'".
std::string describe_wait_cycles(const LoopCore& loop) {
  std::vector<const Task*> tasks = loop.tasks_in_start_order();
  std::set<const BlockingContext*> reported;
  std::string text;
  for (const Task* task : tasks) {
    const BlockingContext* start = &LoopCore::context_of(*task);
    if (reported.count(start) != 0) continue;
    // Follow at most one step per task: a longer chain cannot return to start.
    std::vector<const BlockingContext*> chain{start};
    const BlockingContext* next = start->waits_for;
    for (size_t steps = 0; next != nullptr && next != start && steps <= tasks.size(); ++steps) {
      chain.push_back(next);
      next = next->waits_for;
    }
    if (next != start) continue;
    std::string line = "\n  cycle: ";
    for (const BlockingContext* member : chain) {
      reported.insert(member);
      line += name_of(*member) + " (" + (member->waiting_on ? member->waiting_on : "?") + ") -> ";
    }
    text += line + name_of(*start);
  }
  return text;
}

std::string seconds(Duration duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3fs", std::chrono::duration<double>(duration).count());
  return text;
}

}  // namespace

std::vector<TaskInfo> list_tasks_of(const LoopCore& loop, bool with_stacks) {
  // The real coarse clock, as waiting_since is (wait_label.h): never the
  // loop's clock, which under virtual time (and, through //patch, even
  // steady_clock) reads the virtual one.
  const auto now = coarse_steady_now();
  std::vector<TaskInfo> tasks;
  for (const Task* task : loop.tasks_in_start_order()) {
    const BlockingContext& context = LoopCore::context_of(*task);
    TaskInfo info{task->name(), TaskState::kBlocked, "", Duration::zero(), {}};
    if (loop.running_context() == &context) {
      info.state = TaskState::kRunning;
    } else if (context.scheduled) {
      info.state = TaskState::kReady;
    } else if (context.waiting_on != nullptr) {
      info.waiting_on = context.waiting_on;
      // Both are coarse, but a wait that began in this turn is dated by the
      // turn's start: never report a negative wait.
      info.waiting_for = std::max(
          Duration::zero(), std::chrono::duration_cast<Duration>(now - context.waiting_since));
    } else {
      info.waiting_on = "unknown";
    }
    if (with_stacks) {
      info.stack = info.state == TaskState::kRunning ? running_stack()
                                                     : suspended_symbols(*context.fiber);
    }
    tasks.push_back(std::move(info));
  }
  return tasks;
}

void write_task_dump(std::ostream& out, const std::vector<TaskInfo>& tasks) {
  out << "evergreen: " << tasks.size() << (tasks.size() == 1 ? " task" : " tasks")
      << " on this thread's loop\n";
  for (const TaskInfo& task : tasks) {
    out << "task '" << task.name << "' " << to_string(task.state);
    if (task.state == TaskState::kBlocked) {
      out << " on " << task.waiting_on << " for " << seconds(task.waiting_for);
    }
    out << '\n';
    for (size_t i = 0; i < task.stack.size(); ++i) {
      out << "    #" << i << ' ' << task.stack[i] << '\n';
    }
  }
}

std::string describe_blocked_tasks(const LoopCore& loop, size_t limit) {
  std::string text;
  size_t blocked = 0;
  for (const TaskInfo& task : list_tasks_of(loop, /*with_stacks=*/false)) {
    if (task.state != TaskState::kBlocked) continue;
    if (++blocked <= limit) text += "\n  '" + task.name + "' waits on " + task.waiting_on;
  }
  if (blocked > limit) text += "\n  ... and " + std::to_string(blocked - limit) + " more";
  return text + describe_wait_cycles(loop);
}

}  // namespace evergreen::internal
