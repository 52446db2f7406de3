// evergreen/loop/shield.h
//
// CancellationShield: a scope in which the current task (or the main context)
// cannot be cancelled.
//
//   Connection::~Connection() {
//     CancellationShield shield;   // a kill or Timeout now waits for the flush
//     stream_.drain();
//   }
//
// While at least one shield is alive in a context, a kill (Task::kill) or a
// Timeout aimed at that context is held back: blocking calls inside the scope
// block normally, are not woken by the delivery and do not raise it. When the
// last shield of the context ends, what was held back becomes pending and is
// raised at the context's first suspension point after it (the next blocking
// call, including sleep(0s)); the shield's destructor itself never throws.
//
// Guarantees:
// - Shields nest: only the end of the outermost one releases the delivery.
// - A delivery already pending when the first shield begins (it arrived in
//   the turn a wait was satisfied) is held back too.
// - A Timeout that expires inside a shield fires exactly once: its exception
//   is raised after the shield, not again. A Timeout cancelled or destroyed
//   inside the shield withdraws what it had delivered, as outside one.
// - Of several deliveries held back, one is raised, by the rule outside
//   shields: a kill is never displaced, a later Timeout displaces an earlier.
// - Only the loop's destruction overrides a shield: it unwinds every task
//   that is still blocked, shielded or not.
//
// Why: an exception escaping a destructor that runs during unwinding calls
// std::terminate, so a destructor that blocks (flushes a stream, joins a
// task, waits for a lock) under an armed Timeout or a pending kill must do so
// inside a shield. A shield is no place for waits that may never end: with
// the kill held back, nothing but the awaited event ends them.
//
// Must be created in a task or the main context (std::runtime_error in a loop
// callback) and destroyed on the same thread in the same context, which
// scoped use guarantees.
#ifndef EVERGREEN_LOOP_SHIELD_H_
#define EVERGREEN_LOOP_SHIELD_H_

namespace evergreen {

namespace internal {
struct BlockingContext;
}

class CancellationShield {
 public:
  CancellationShield();
  ~CancellationShield();
  CancellationShield(const CancellationShield&) = delete;
  CancellationShield& operator=(const CancellationShield&) = delete;

 private:
  internal::BlockingContext& context_;
};

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_SHIELD_H_
