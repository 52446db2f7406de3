#include "evergreen/loop/internal/cross_thread_wake.h"

#include "evergreen/loop/internal/blocking_context.h"

namespace evergreen::internal {

void wake_arrivals(CrossThreadWake* chain, const BlockingContext* running) {
  while (chain != nullptr) {
    // Read everything first: once `consumed` is set (and the context run),
    // the record may be gone.
    CrossThreadWake* next = chain->next;
    BlockingContext* context = chain->context;
    chain->consumed.store(true, std::memory_order_release);
    if (context != running) wake(*context);
    chain = next;
  }
}

}  // namespace evergreen::internal
