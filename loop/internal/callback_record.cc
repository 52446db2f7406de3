#include "evergreen/loop/internal/callback_record.h"

#include <utility>

#include "evergreen/loop/internal/loop_core.h"
#include "evergreen/loop/internal/report.h"

namespace evergreen::internal {

void CallbackRecord::run_ready() {
  std::shared_ptr<CallbackRecord> keep = std::move(self);
  invoke();
}

void CallbackRecord::fire() {
  std::shared_ptr<CallbackRecord> keep = std::move(self);
  invoke();
}

void CallbackRecord::detach() {
  loop = nullptr;
  std::shared_ptr<CallbackRecord> drop = std::move(self);
}

void CallbackRecord::invoke() {
  if (cancelled.load(std::memory_order_relaxed) || finished) return;
  if (kind != Kind::kSignal) finished = true;
  report_exceptions("a loop callback", [this] { callback(); });
}

void CallbackRecord::cancel() {
  if (cancelled.exchange(true)) {
    return;
  }
  if (loop == nullptr) return;
  if (kind == Kind::kTimer) {
    if (loop->on_loop_thread() && armed()) {
      loop->remove_timer(this);
      std::shared_ptr<CallbackRecord> drop = std::move(self);
    }
  } else if (kind == Kind::kSignal) {
    loop->remove_signal_record(this);
  }
}

}  // namespace evergreen::internal
