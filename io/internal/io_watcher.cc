#include "evergreen/io/internal/io_watcher.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include "evergreen/loop/event_loop.h"

namespace evergreen::io::internal {

using evergreen::internal::kPollEdgeTriggered;
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
  while (Operation* operation = operations_) {
    operations_ = operation->next_;
    operation->watcher_ = nullptr;
    operation->previous_ = operation->next_ = nullptr;
  }
}

IoWatcher::Operation::Operation(IoWatcher& watcher) : watcher_(&watcher) {
  next_ = watcher.operations_;
  if (next_ != nullptr) next_->previous_ = this;
  watcher.operations_ = this;
}

IoWatcher::Operation::~Operation() {
  if (watcher_ == nullptr) return;  // orphaned: the watcher is gone
  if (previous_ != nullptr) {
    previous_->next_ = next_;
  } else {
    watcher_->operations_ = next_;
  }
  if (next_ != nullptr) next_->previous_ = previous_;
}

void IoWatcher::attach(int fd, WriteDrain* drain) {
  if (attached()) detach();
  Scheduler& loop = evergreen::internal::Scheduler::current();
  fd_ = fd;
  drain_ = drain;
  readable_ = writable_ = true;
  peer_closed_ = false;
  try {
    token_ = loop.poller().add(fd, kPollIn | kPollOut | kPollPeerClosed | kPollEdgeTriggered, this);
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

void IoWatcher::detach() {
  if (loop_ != nullptr) {
    if (pollable_) loop_->poller().remove(token_, fd_);
    loop_->remove_destroy_listener(this);
    loop_ = nullptr;
  }
  fd_ = -1;
  pollable_ = false;
  readable_ = writable_ = false;
  drain_ = nullptr;
  wake_all();
}

void IoWatcher::wake_all() {
  if (!readers_.empty()) readers_.notify_all();
  if (!writers_.empty()) writers_.notify_all();
}

void IoWatcher::on_loop_destroyed() {
  // Every task was killed before this runs, so nobody waits; the poller goes
  // away with the loop, so there is nothing to unregister.
  loop_ = nullptr;
  pollable_ = false;
  readable_ = writable_ = false;
}

void IoWatcher::on_poll_events(uint32_t events) {
  constexpr uint32_t kEnded = kPollPeerClosed | kPollHangUp | kPollError;
  if (events & (kPollIn | kEnded)) {
    readable_ = true;
    if (events & kEnded) peer_closed_ = true;
    if (!readers_.empty()) readers_.notify_all();
  }
  if (events & (kPollOut | kPollHangUp | kPollError)) {
    writable_ = true;
    if (drain_ != nullptr) drain_->on_writable();
    if (!writers_.empty()) writers_.notify_all();
  }
}

WaitResult IoWatcher::wait(WaitQueue& queue, std::optional<Duration> timeout) {
  if (loop_ == nullptr) {
    throw std::runtime_error(
        "evergreen: I/O on a descriptor whose event loop was destroyed (each stream belongs "
        "to the loop it was opened on)");
  }
  Scheduler& loop = *loop_;
  Operation operation(*this);
  loop.retain();
  struct Release {
    ~Release() { loop.release(); }
    Scheduler& loop;
  } release{loop};
  queue.wait(timeout);
  return operation.owner_destroyed() ? WaitResult::kDestroyed : WaitResult::kWoken;
}

}  // namespace evergreen::io::internal
