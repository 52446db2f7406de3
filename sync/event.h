// evergreen/sync/event.h
//
// Event: one task signals, any number of tasks wait (threading.Event).
//
//   Event ready;
//   spawn([&] { load_config(); ready.set(); });
//   ready.wait();                     // blocks this task until set()
//
// Guarantees:
// - set() wakes every task blocked in wait(), in the order they blocked; a
//   wait() after set() returns at once.
// - A waiter woken by set() returns true even if clear() ran before it
//   resumed: it saw the flag set.
// - A kill or Timeout delivered while blocked in wait() makes the waiter leave
//   the event's queue and propagates from wait().
// - Single-loop object: use it from one thread (tasks, the main context, and
//   for the non-blocking members also loop callbacks). It belongs to the
//   thread that first uses it; any member called from another thread throws
//   std::logic_error naming both threads (builds without NDEBUG). To set it
//   from another thread, send the set() with EventLoop::call_from_thread.
#ifndef EVERGREEN_SYNC_EVENT_H_
#define EVERGREEN_SYNC_EVENT_H_

#include <chrono>
#include <optional>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/thread_affinity.h"
#include "evergreen/loop/internal/wait_queue.h"

namespace evergreen {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Event::is_set()
  //
  // Whether the flag is set.
  bool is_set() const {
    affinity_.check(this, "Event", "is_set");
    return flag_;
  }

  // Event::set()
  //
  // Sets the flag and wakes every waiter. Never blocks; callable from loop
  // callbacks.
  void set();

  // Event::clear()
  //
  // Resets the flag: later wait() calls block until the next set().
  void clear() {
    affinity_.check(this, "Event", "clear");
    flag_ = false;
  }

  // Event::wait()
  //
  // Returns at once if the flag is set; otherwise blocks until set() or until
  // `timeout` passes. Returns the flag as the waiter saw it: true when set()
  // woke it, false on timeout. Raises a kill or Timeout delivered while
  // blocked; throws std::runtime_error when it would block inside a loop
  // callback.
  bool wait(std::optional<Duration> timeout = std::nullopt);
  // Any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return wait(std::optional<Duration>(to_duration(timeout)));
  }

 private:
  bool flag_ = false;
  internal::WaitQueue waiters_;
  internal::ThreadAffinity affinity_;
};

}  // namespace evergreen

#endif  // EVERGREEN_SYNC_EVENT_H_
