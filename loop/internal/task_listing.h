// The implementation behind debug.h, for a given loop: the loop's own
// deadlock error uses it as well as list_tasks().
#ifndef EVERGREEN_LOOP_INTERNAL_TASK_LISTING_H_
#define EVERGREEN_LOOP_INTERNAL_TASK_LISTING_H_

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "evergreen/loop/debug.h"

namespace evergreen::internal {

class LoopCore;

// `loop`'s live tasks in start order; stacks only if `with_stacks`.
std::vector<TaskInfo> list_tasks_of(const LoopCore& loop, bool with_stacks);

// Writes `tasks` as dump_tasks() does.
void write_task_dump(std::ostream& out, const std::vector<TaskInfo>& tasks);

// For the deadlock error: one line per blocked task of `loop`, "  'name'
// waits on Lock::acquire", the first `limit` of them, then "  ... and N more".
// Then each cycle of tasks waiting for one another (a join, an RLock held by
// another task), "  cycle: 'a' (join) -> 'b' (join) -> 'a'". "" when no task
// is blocked.
std::string describe_blocked_tasks(const LoopCore& loop, size_t limit = 20);

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_TASK_LISTING_H_
