// IoWatcher: the readiness of one file descriptor, as the loop reports it.
//
// The watcher is one listener on the fd's entry in the loop's fd registry
// (FdRegistry), which it may share with other users of the same fd (an
// add_reader() callback, patched calls). While no listener of the fd needs
// level triggering, the entry is registered once, edge-triggered for input,
// output and peer close, and never modified afterwards: no epoll_ctl per read
// or write. Events set cached `readable` / `writable` flags; the I/O code
// clears a flag when a system call says EAGAIN (or, for stream sockets, when a
// short read proves the queue empty), so the next call parks at once instead
// of making a system call that would fail. With edge triggering the kernel
// reports every new arrival, so a cleared flag is always set again by an event.
//
// While another listener makes the entry level-triggered, the watcher asks
// (`interest`) for exactly the directions whose flag is cleared: an event for a
// direction whose flag is set would tell nothing new, and level triggering
// would repeat it on every poll (a writable socket would spin the loop). A
// cleared flag is then set again by the first poll that finds the direction
// ready, which is all edge triggering provided.
//
// Guarantees:
// - A waiting task is woken only by an event for its direction, by detach(),
//   by the fd being closed elsewhere (FdRegistry::forget()) or by the
//   watcher's destruction; an event with nobody waiting costs a flag store.
// - While a context waits it holds a loop keep-alive, so run() does not return
//   under it; an idle registered fd does not keep the loop running.
// - Destroying the watcher's owner (after orphan_waiters()) wakes its waiters
//   with kDestroyed, after which they must not touch the owner; this holds
//   even for a waiter woken by close() just before the destruction that has
//   not run yet.
// - Fds epoll cannot watch (regular files, /dev/null) are always "ready":
//   their system calls never return EAGAIN. So is an fd closed behind the
//   watcher's back (the patched close(), or the registry losing it): its
//   waiters are woken, later waits return at once, and the owner's next
//   system call reports what happened (EBADF) rather than waiting for an event
//   that cannot come.
// Single-threaded: every member is called on the loop's thread.
#ifndef EVERGREEN_IO_INTERNAL_IO_WATCHER_H_
#define EVERGREEN_IO_INTERNAL_IO_WATCHER_H_

#include <cstdint>
#include <optional>

#include "evergreen/loop/internal/fd_registry.h"
#include "evergreen/loop/internal/intrusive_list.h"
#include "evergreen/loop/internal/kernel_operation.h"
#include "evergreen/loop/internal/poller.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/wait_queue.h"

namespace evergreen::io::internal {

enum class WaitResult {
  kWoken,      // an event, detach() or the fd closed elsewhere: look at the state again
  kDestroyed,  // the watcher (and its owner) are gone
};

// A socket operation in flight in the loop's ring for the watcher's owner
// (ring_call.h). The watcher lists it so that detach() can cancel it and wait
// for its completion before the owner closes the fd or frees the buffer.
class PendingRingCall : public evergreen::internal::KernelOperation,
                        public evergreen::internal::IntrusiveListNode<PendingRingCall> {};

class IoWatcher final : public evergreen::internal::FdListener,
                        public evergreen::internal::Scheduler::DestroyListener {
 public:
  // Called on the loop fiber each time the fd reports writable, so queued
  // output is sent even when no task waits for it.
  class WriteDrain {
   public:
    virtual ~WriteDrain() = default;
    virtual void on_writable() = 0;
  };

  IoWatcher() = default;
  // Unregisters and wakes every waiter with kDestroyed.
  ~IoWatcher() override;
  IoWatcher(const IoWatcher&) = delete;
  IoWatcher& operator=(const IoWatcher&) = delete;

  // IoWatcher::attach()
  //
  // Adds the watcher to `fd`'s entry in this thread's loop's fd registry
  // (creating the main thread's loop on demand). Both flags start set: the
  // first read or write just tries. Throws std::system_error if epoll refuses
  // the fd for a reason other than its type, std::runtime_error on a thread
  // without a loop.
  void attach(int fd, WriteDrain* drain = nullptr);

  // IoWatcher::join_loop_unwatched()
  //
  // Binds the watcher to this thread's loop for ring calls on `fd` without
  // watching its readiness: for a socket whose readiness says nothing yet (a
  // TCP socket before its connect reports hang-up). attach() later watches
  // it. Waits return at once meanwhile.
  void join_loop_unwatched(int fd);

  // IoWatcher::Operation
  //
  // Marks a blocking call in progress on the watcher's owner (a wait here, or
  // a DNS lookup before a connect). If the owner is destroyed before the call
  // resumes - even after it was woken, say by close(), and had not run yet -
  // owner_destroyed() turns true and the call must leave without touching the
  // owner. Lives on the blocked context's stack.
  class Operation : public evergreen::internal::IntrusiveListNode<Operation> {
   public:
    explicit Operation(IoWatcher& watcher);
    ~Operation();
    Operation(const Operation&) = delete;
    Operation& operator=(const Operation&) = delete;
    bool owner_destroyed() const { return watcher_ == nullptr; }

   private:
    friend class IoWatcher;
    IoWatcher* watcher_;
  };

  // IoWatcher::orphan_waiters()
  //
  // The owner is being destroyed: every Operation in progress learns it
  // (owner_destroyed()), and waits return kDestroyed. Owners call this first
  // thing in their destructor.
  void orphan_waiters();

  // IoWatcher::detach()
  //
  // Leaves the fd's registry entry (call it before closing the fd) and wakes
  // every waiter with kWoken, so they notice whatever state change prompted
  // the detach. Ring calls in flight are cancelled first and the thread
  // blocks until each has completed (see ring_call.h).
  void detach();

  // IoWatcher::reads_wait_in_ring()
  //
  // The owner's reads wait as io_uring receives, never on this watcher's
  // readable flag: the fd's registration stops reporting input (one wake-up
  // per arrival fewer). The flag then stays as the last system call left it.
  // Before attach() it sets how attach() registers; detach() undoes it.
  void reads_wait_in_ring();

  // Lists / unlists a ring call in flight (ring_call.cc).
  void track(PendingRingCall* call) { ring_calls_.push_back(call); }
  void untrack(PendingRingCall* call) {
    if (call->is_linked()) ring_calls_.remove(call);
  }
  // The loop the fd is registered with; null when not attached or the loop is
  // gone.
  evergreen::internal::Scheduler* loop() const { return loop_; }

  bool attached() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Sets who sends queued output when the fd turns writable.
  void set_drain(WriteDrain* drain) { drain_ = drain; }
  // False once the loop the fd was registered with has been destroyed.
  bool loop_alive() const { return loop_ != nullptr; }

  bool readable() const { return readable_; }
  bool writable() const { return writable_; }
  // Whether the peer closed its side or the fd reported an error: reads will
  // not block again, so a short read no longer proves the queue empty.
  bool peer_closed() const { return peer_closed_; }
  void clear_readable() {
    if (!pollable_) return;
    readable_ = false;
    want(kReadInterest, true);
  }
  void clear_writable() {
    if (!pollable_) return;
    writable_ = false;
    want(kWriteInterest, true);
  }

  // IoWatcher::wait_readable() / wait_writable()
  //
  // Parks the calling context until the next event for that direction,
  // detach(), the fd's closing elsewhere, destruction or `timeout` (then
  // kWoken too); returns kWoken at once if the fd was closed elsewhere
  // already. Raises a kill or
  // Timeout delivered meanwhile. Throws std::runtime_error inside a loop
  // callback and when the fd is not attached to a live loop. `label` names
  // the blocking call for diagnostics, as WaitQueue::wait() takes it.
  WaitResult wait_readable(std::optional<Duration> timeout = std::nullopt,
                           const char* label = nullptr) {
    return wait(readers_, timeout, label);
  }
  WaitResult wait_writable(std::optional<Duration> timeout = std::nullopt,
                           const char* label = nullptr) {
    return wait(writers_, timeout, label);
  }

  // Wakes the contexts waiting to write (a flush that may now be complete).
  void notify_writers() {
    if (!writers_.empty()) writers_.notify_all();
  }

 private:
  // What a cleared flag asks the registry for (see the file comment).
  static constexpr uint32_t kReadInterest =
      evergreen::internal::kPollIn | evergreen::internal::kPollPeerClosed;
  static constexpr uint32_t kWriteInterest = evergreen::internal::kPollOut;

  void on_fd_events(uint32_t events) override;
  void on_fd_forgotten() override;
  void on_loop_destroyed() override;
  // Adds (`wanted`) or drops `bits` in `interest`. The registration depends
  // on it only while the entry is level-triggered; only then is the registry
  // told (one epoll_ctl).
  void want(uint32_t bits, bool wanted) {
    uint32_t changed = wanted ? (interest | bits) : (interest & ~bits);
    if (changed == interest) return;
    interest = changed;
    if (entry_level_triggered()) update_registration();
  }
  void update_registration();
  // The fd is gone from under the watcher: from now on it counts as always
  // ready, and every waiter is woken to find that out.
  void lose_fd();
  WaitResult wait(evergreen::internal::WaitQueue& queue, std::optional<Duration> timeout,
                  const char* label);
  void wake_all();
  // Cancels every ring call in flight; with `wait`, blocks until each has
  // completed.
  void cancel_ring_calls(bool wait);

 public:
  // Ends the ring calls in flight early (they complete with -ECANCELED, or
  // with what they did by then) without waiting: their callers look again,
  // e.g. at a raised high-water mark.
  void interrupt_ring_calls() { cancel_ring_calls(/*wait=*/false); }

  evergreen::internal::Scheduler* loop_ = nullptr;
  int fd_ = -1;
  WriteDrain* drain_ = nullptr;
  bool pollable_ = false;
  bool readable_ = false;
  bool writable_ = false;
  bool peer_closed_ = false;
  // The fd was closed elsewhere or could no longer be watched: waits return
  // at once (see the file comment).
  bool lost_ = false;
  evergreen::internal::WaitQueue readers_;
  evergreen::internal::WaitQueue writers_;
  evergreen::internal::IntrusiveList<Operation> operations_;
  evergreen::internal::IntrusiveList<PendingRingCall> ring_calls_;
};

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_IO_WATCHER_H_
