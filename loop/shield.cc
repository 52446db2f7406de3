#include "evergreen/loop/shield.h"

#include "evergreen/loop/internal/blocking_context.h"

namespace evergreen {

// The bookkeeping lives with the deliveries it holds back
// (internal/blocking_context.cc).
CancellationShield::CancellationShield() : context_(internal::current_blocking_context()) {
  internal::shield_acquired(context_);
}

CancellationShield::~CancellationShield() { internal::shield_released(context_); }

}  // namespace evergreen
