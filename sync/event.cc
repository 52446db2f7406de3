#include "evergreen/sync/event.h"

namespace evergreen {

void Event::set() {
  affinity_.check(this, "Event", "set");
  flag_ = true;
  waiters_.notify_all();
}

bool Event::wait(std::optional<Duration> timeout) {
  affinity_.check(this, "Event", "wait");
  if (flag_) return true;
  // Notified means set() ran while we waited, whatever clear() did since.
  return waiters_.wait("Event::wait", timeout) || flag_;
}

}  // namespace evergreen
