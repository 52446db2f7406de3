// The shared state behind a Handler: one scheduled callback, timer or signal
// handler. The loop keeps a reference while the record is queued (`self`), so
// a Handler may be dropped at once without cancelling anything.
#ifndef EVERGREEN_LOOP_INTERNAL_CALLBACK_RECORD_H_
#define EVERGREEN_LOOP_INTERNAL_CALLBACK_RECORD_H_

#include <atomic>
#include <memory>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/ready_queue.h"
#include "evergreen/loop/internal/timer_heap.h"

namespace evergreen::internal {

class LoopCore;

struct CallbackRecord final : ReadyNode, TimerEntry {
  enum class Kind { kSoon, kTimer, kFromThread, kSignal };

  CallbackRecord(Kind kind, LoopCore* loop, EventLoop::Callback callback)
      : kind(kind), loop(loop), callback(std::move(callback)) {}

  // ReadyNode: a call_soon / call_from_thread callback reached the front.
  void run_ready() override;
  void drop_unrun() override { detach(); }
  // TimerEntry: a call_later / call_at deadline passed.
  void fire() override;
  void detach() override;
  // Runs the callback once unless cancelled, reporting what escapes it.
  void invoke();
  void cancel();

  const Kind kind;
  LoopCore* loop;  // null once the loop is destroyed
  EventLoop::Callback callback;
  std::atomic<bool> cancelled{false};
  bool finished = false;  // a one-shot callback that already ran
  int signum = 0;
  std::shared_ptr<CallbackRecord> self;  // set while queued in the loop
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_CALLBACK_RECORD_H_
