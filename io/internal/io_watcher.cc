#include "evergreen/io/internal/io_watcher.h"

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace evergreen::io::internal {

using evergreen::internal::kPollError;
using evergreen::internal::kPollHangUp;
using evergreen::internal::kPollIn;
using evergreen::internal::kPollOut;
using evergreen::internal::kPollPeerClosed;
using evergreen::internal::Scheduler;
using evergreen::internal::WaitQueue;

IoWatcher::~IoWatcher() {
  orphan_waiters();
  detach();
}

void IoWatcher::orphan_waiters() {
  while (Operation* operation = operations_.pop_front()) operation->watcher_ = nullptr;
}

IoWatcher::Operation::Operation(IoWatcher& watcher) : watcher_(&watcher) {
  watcher.operations_.push_back(this);
}

IoWatcher::Operation::~Operation() {
  if (watcher_ == nullptr) return;  // orphaned: the watcher is gone
  watcher_->operations_.remove(this);
}

void IoWatcher::attach(int fd, WriteDrain* drain) {
  if (attached()) detach();
  Scheduler& loop = Scheduler::current();
  fd_ = fd;
  drain_ = drain;
  readable_ = writable_ = true;
  peer_closed_ = false;
  lost_ = false;
  // Both flags set: nothing to ask for until a system call says EAGAIN.
  interest = 0;
  level_triggered = false;
  try {
    loop.fds().add(fd, *this);
    pollable_ = true;
  } catch (const std::system_error& error) {
    // Regular files and some devices cannot be polled; they never block.
    if (error.code().value() != EPERM) {
      fd_ = -1;
      throw;
    }
    pollable_ = false;
  }
  loop_ = &loop;
  loop.add_destroy_listener(this);
}

void IoWatcher::reads_wait_in_ring() {
  constexpr uint32_t kWritable = kPollOut;
  if (edge_events == kWritable) return;
  edge_events = kWritable;
  if (registered()) update_registration();
}

void IoWatcher::join_loop_unwatched(int fd) {
  if (attached()) detach();
  Scheduler& loop = Scheduler::current();
  fd_ = fd;
  drain_ = nullptr;
  pollable_ = false;
  readable_ = writable_ = true;
  peer_closed_ = false;
  lost_ = false;
  loop_ = &loop;
  loop.add_destroy_listener(this);
}

void IoWatcher::cancel_ring_calls(bool wait) {
  if (ring_calls_.empty() || loop_ == nullptr) return;
  if (!wait) {
    for (PendingRingCall* call = ring_calls_.front(); call != nullptr;
         call = evergreen::internal::IntrusiveList<PendingRingCall>::next(call)) {
      loop_->cancel_operation(*call);
    }
    return;
  }
  // Each completion unlists its call (and wakes its caller).
  while (PendingRingCall* call = ring_calls_.front()) {
    loop_->cancel_operation(*call);
    loop_->finish_operation(*call);
    untrack(call);  // in case the poller had no record of it any more
  }
}

void IoWatcher::detach() {
  // Before the owner closes the fd and frees what the kernel may write into.
  cancel_ring_calls(/*wait=*/true);
  if (loop_ != nullptr) {
    if (registered()) loop_->fds().remove(*this);
    loop_->remove_destroy_listener(this);
    loop_ = nullptr;
  }
  fd_ = -1;
  pollable_ = false;
  lost_ = false;
  readable_ = writable_ = false;
  drain_ = nullptr;
  edge_events = kPollIn | kPollOut | kPollPeerClosed;  // for the next attach()
  wake_all();
}

void IoWatcher::wake_all() {
  if (!readers_.empty()) readers_.notify_all();
  if (!writers_.empty()) writers_.notify_all();
}

void IoWatcher::on_loop_destroyed() {
  // Every task was killed before this runs, so nobody waits. The registry
  // still exists (it is cleared after the destroy listeners ran).
  cancel_ring_calls(/*wait=*/true);
  if (registered()) loop_->fds().remove(*this);
  loop_ = nullptr;
  pollable_ = false;
  readable_ = writable_ = false;
}

void IoWatcher::on_fd_forgotten() {
  // The registry has detached us already; the destroy listener stays, so a
  // later detach() or loop destruction finds the watcher as it expects.
  lose_fd();
}

void IoWatcher::update_registration() {
  if (!registered()) return;
  try {
    loop_->fds().update(*this);
  } catch (const std::system_error&) {
    // The kernel no longer knows the fd (it was closed under us): no event
    // will ever set the cleared flag.
    loop_->fds().remove(*this);
    lose_fd();
  }
}

void IoWatcher::lose_fd() {
  // The fd is being closed behind the owner's back: what is in flight on it
  // ends (-ECANCELED) and its callers look again, meeting EBADF. The buffers
  // are the owner's and stay, so nothing needs to wait here.
  cancel_ring_calls(/*wait=*/false);
  pollable_ = false;
  lost_ = true;
  readable_ = writable_ = true;
  interest = 0;
  wake_all();
}

void IoWatcher::on_fd_events(uint32_t events) {
  constexpr uint32_t kEnded = kPollPeerClosed | kPollHangUp | kPollError;
  if (events & (kPollIn | kEnded)) {
    readable_ = true;
    if (events & kEnded) peer_closed_ = true;
    want(kReadInterest, false);
    if (!readers_.empty()) readers_.notify_all();
  }
  if (events & (kPollOut | kPollHangUp | kPollError)) {
    writable_ = true;
    want(kWriteInterest, false);
    // May close the owner (and so detach this watcher) on a write error.
    if (drain_ != nullptr) drain_->on_writable();
    if (!writers_.empty()) writers_.notify_all();
  }
}

WaitResult IoWatcher::wait(WaitQueue& queue, std::optional<Duration> timeout,
                           const char* label) {
  if (loop_ == nullptr) {
    throw std::runtime_error(
        "evergreen: I/O on a descriptor whose event loop was destroyed (each stream belongs "
        "to the loop it was opened on)");
  }
  // Nothing would ever wake this wait: let the caller's next system call say
  // what became of the fd.
  if (lost_) return WaitResult::kWoken;
  Operation operation(*this);
  Scheduler::KeepAlive keep_alive(*loop_);
  queue.wait(label, timeout);
  return operation.owner_destroyed() ? WaitResult::kDestroyed : WaitResult::kWoken;
}

}  // namespace evergreen::io::internal
