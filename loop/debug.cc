#include "evergreen/loop/debug.h"

#include <ostream>

#include "evergreen/loop/internal/loop_core.h"
#include "evergreen/loop/internal/stall_watchdog.h"
#include "evergreen/loop/internal/task_listing.h"

namespace evergreen {

std::vector<TaskInfo> list_tasks() {
  const internal::LoopCore* loop = internal::LoopCore::for_this_thread();
  if (loop == nullptr) return {};
  return internal::list_tasks_of(*loop, /*with_stacks=*/true);
}

void dump_tasks(std::ostream& out) { internal::write_task_dump(out, list_tasks()); }

void install_task_dump_handler(int signum) { internal::install_dump_signal(signum); }

const char* to_string(TaskState state) {
  switch (state) {
    case TaskState::kReady:
      return "ready";
    case TaskState::kRunning:
      return "running";
    case TaskState::kBlocked:
      return "blocked";
  }
  return "unknown";
}

}  // namespace evergreen
