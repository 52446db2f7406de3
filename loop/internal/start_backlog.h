// StartBacklog: new tasks that wait to join the ready queue, so that a burst
// of spawns does not start every task before any timer fires.
//
// Why. A task takes its fiber stack when it first runs and gives it back the
// moment it ends (fiber.h). If a burst of N spawns all went on the ready
// queue, the loop would start all N before it next fired a timer or polled,
// so all N stacks would be in use at once even when most tasks only sleep
// briefly: 100k tasks sleeping 0-100 ms each held 100k stacks (450 MiB), and
// every one of those stack pages is a fresh page fault. Admitted in batches,
// with due timers fired between batches, the tasks that have finished hand
// their warm stacks to the next batch: the stacks in use stay near the number
// of tasks started per sleep interval, not the number spawned.
//
// Rule. A started task goes straight onto the ready queue (FIFO, as always)
// while the ready queue holds fewer than kStartBatch entries and no earlier
// task waits here; otherwise it waits here, FIFO. At the start of every loop
// turn, after due timers have fired and cross-thread callbacks were taken,
// admit() moves waiting tasks onto the ready queue until it holds kStartBatch
// entries, and always at least kMinAdmitted of them, so the backlog drains
// however busy the loop is; while the loop is behind on due timers, only
// kMinAdmitted. Tasks therefore still start in spawn order; what
// changes is only that, during a burst of more than kStartBatch spawns, the
// later ones start after the timers, I/O and wake-ups of the turns between.
// A yield is not such a wake-up: the yielding context is append()ed here,
// behind the tasks spawned before it, as FIFO order requires.
//
// Cost. One size comparison per spawn; per turn, nothing while the backlog is
// empty. A burst takes one loop turn per kStartBatch tasks, i.e. one extra
// switch through the loop fiber (and one timer check, and one poll if file
// descriptors are watched) per kStartBatch starts.
//
// Entries are the tasks' BlockingContexts (ReadyNodes): a node is on the
// backlog or the ready queue, never both. Single-threaded, like the loop.
#ifndef EVERGREEN_LOOP_INTERNAL_START_BACKLOG_H_
#define EVERGREEN_LOOP_INTERNAL_START_BACKLOG_H_

#include <cstddef>

#include "evergreen/loop/internal/ready_queue.h"

namespace evergreen::internal {

class StartBacklog {
 public:
  // How many ready entries a turn may begin with before new tasks wait. About
  // what a few milliseconds of task starts take, so timers fire on time
  // (their resolution is a millisecond) while the extra turns stay rare.
  static constexpr size_t kStartBatch = 256;
  // The fewest waiting tasks a turn admits, however full the ready queue.
  static constexpr size_t kMinAdmitted = 32;

  bool empty() const { return waiting_.empty(); }
  size_t size() const { return waiting_.size(); }

  // Queues a newly started task's entry: on `ready` if there is room and no
  // earlier task waits, else here.
  void add(ReadyNode* node, ReadyQueue& ready) {
    if (waiting_.empty() && ready.size() < kStartBatch) {
      ready.push(node);
    } else {
      waiting_.push(node);
    }
  }

  // Queues `node` behind every waiting entry whatever the ready queue holds:
  // a context that yields (LoopCore::schedule_yield) resumes after the tasks
  // spawned before its yield.
  void append(ReadyNode* node) { waiting_.push(node); }

  // Moves waiting entries onto `ready`, oldest first: until it holds
  // kStartBatch entries, and at least kMinAdmitted. When `timers_behind` (due
  // timers are left over after this turn's batch fired), only kMinAdmitted:
  // a timer fires a bounded batch per turn, and admitting a full batch of new
  // tasks per turn would start tasks faster than their timers end them, the
  // very pile-up of stacks this backlog is for.
  void admit(ReadyQueue& ready, bool timers_behind) {
    const size_t target = timers_behind ? 0 : kStartBatch;
    for (size_t admitted = 0; !waiting_.empty(); ++admitted) {
      if (admitted >= kMinAdmitted && ready.size() >= target) break;
      ready.push(waiting_.pop());
    }
  }

  // The loop is being destroyed: every waiting entry is dropped unrun.
  void drop_all() {
    while (ReadyNode* node = waiting_.pop()) node->drop_unrun();
  }

 private:
  ReadyQueue waiting_;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_START_BACKLOG_H_
