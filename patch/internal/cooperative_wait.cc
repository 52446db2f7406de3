#include "evergreen/patch/internal/cooperative_wait.h"

#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <new>
#include <system_error>
#include <unordered_map>

#include "evergreen/fiber/fiber.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/poller.h"
#include "evergreen/loop/local.h"
#include "evergreen/loop/timeout.h"
#include "evergreen/patch/patch.h"

namespace evergreen::patch_internal {

using internal::BlockingContext;
using internal::Scheduler;
using internal::Poller;

constexpr uint32_t kAlwaysReported = internal::kPollError | internal::kPollHangUp;

class FdWatch;

struct CooperativeWait::Node {
  FdWatch* watch = nullptr;  // null once unlinked
  CooperativeWait* wait = nullptr;
  uint32_t events = 0;
  Node* prev = nullptr;
  Node* next = nullptr;
};

// One poller registration: an fd some waits of this thread's loop watch.
class FdWatch final : public internal::PollHandler {
 public:
  using Node = CooperativeWait::Node;

  // The watch for `fd`, created (and registered) if needed. Null with errno
  // set if the fd cannot be registered.
  static FdWatch* find_or_create(Scheduler& loop, int fd, uint32_t events);
  static FdWatch* find(int fd);

  // Adds a waiter; false with errno set if the registration cannot be widened.
  bool link(Node* node);
  // Removes a waiter; the last one out removes the registration and `this`.
  void unlink(Node* node);
  // close(): every waiter leaves with kClosed, then `this` is gone.
  void close_all();

  void on_poll_events(uint32_t events) override;

  ~FdWatch() override = default;

 private:
  FdWatch(Scheduler& loop, int fd) : loop_(loop), fd_(fd) {}

  void detach(Node* node);
  // Narrows (or drops) the registration to what the remaining waiters want.
  void update_interest();
  // The registration failed: wake everyone to re-check, then go.
  void wake_all_and_release();

  Scheduler& loop_;
  int fd_;
  int watched_fd_ = -1;  // fd_, or a dup of it
  Poller::Token token_ = 0;
  uint32_t interest_ = 0;
  Node* head_ = nullptr;
  Node* tail_ = nullptr;
};

namespace {

// The watches of this thread's loop by fd. Allocated with the first watch and
// freed with the last, so that a thread that is not waiting holds nothing;
// the thread_local itself is a plain pointer with no destructor, because
// tasks may still be unwinding from a wait while the thread's other
// thread_locals are destroyed.
using WatchMap = std::unordered_map<int, FdWatch*>;
thread_local WatchMap* watches = nullptr;

// The exception that last interrupted a wait of this task (kOncePerDelivery).
TaskLocal<std::exception_ptr>& last_interruption() {
  static TaskLocal<std::exception_ptr> local;
  return local;
}

}  // namespace

BlockingContext* current_task() {
  BlockingContext* context = internal::current_context_or_null();
  if (context == nullptr || context->task == nullptr) return nullptr;
  // A raw Fiber switched to from inside a task is not the task: parking it
  // would resume the task's own fiber instead.
  if (Fiber::current() != context->fiber) return nullptr;
  return context;
}

// --- FdWatch ---------------------------------------------------------------------

FdWatch* FdWatch::find(int fd) {
  if (watches == nullptr) return nullptr;
  auto found = watches->find(fd);
  return found == watches->end() ? nullptr : found->second;
}

FdWatch* FdWatch::find_or_create(Scheduler& loop, int fd, uint32_t events) {
  if (FdWatch* existing = find(fd)) return existing;
  // The map slot and the object are allocated before the registration, so
  // that running out of memory (std::bad_alloc, for the caller to report)
  // never leaves a registration behind.
  if (watches == nullptr) watches = new WatchMap();
  auto forget_slot = [fd] {
    watches->erase(fd);
    if (watches->empty()) {
      delete watches;
      watches = nullptr;
    }
  };
  std::unique_ptr<FdWatch> watch;
  try {
    watches->emplace(fd, nullptr);
    watch.reset(new FdWatch(loop, fd));
    try {
      watch->token_ = loop.poller().add(fd, events, watch.get());
      watch->watched_fd_ = fd;
    } catch (const std::system_error& error) {
      if (error.code().value() != EEXIST) throw;
      // Someone else (an io stream, EventLoop::add_reader) watches this fd on
      // our loop: epoll keys registrations by (fd, file), so a dup of the fd
      // can be registered beside theirs.
      int duplicate = patch::original::fcntl(fd, F_DUPFD_CLOEXEC, 0);
      if (duplicate < 0) throw std::system_error(errno, std::generic_category());
      try {
        watch->token_ = loop.poller().add(duplicate, events, watch.get());
      } catch (...) {
        patch::original::close(duplicate);
        throw;
      }
      watch->watched_fd_ = duplicate;
    }
  } catch (const std::system_error& error) {
    forget_slot();
    errno = error.code().value();
    return nullptr;
  } catch (...) {
    forget_slot();
    throw;
  }
  watch->interest_ = events;
  (*watches)[fd] = watch.get();
  return watch.release();
}

bool FdWatch::link(Node* node) {
  uint32_t wanted = interest_ | node->events;
  if (wanted != interest_) {
    try {
      loop_.poller().modify(token_, watched_fd_, wanted);
    } catch (const std::system_error& error) {
      errno = error.code().value();
      if (head_ == nullptr) update_interest();  // drops the unused registration
      return false;
    }
    interest_ = wanted;
  }
  node->watch = this;
  node->prev = tail_;
  node->next = nullptr;
  (tail_ == nullptr ? head_ : tail_->next) = node;
  tail_ = node;
  return true;
}

void FdWatch::detach(Node* node) {
  (node->prev == nullptr ? head_ : node->prev->next) = node->next;
  (node->next == nullptr ? tail_ : node->next->prev) = node->prev;
  node->prev = node->next = nullptr;
  node->watch = nullptr;
}

void FdWatch::unlink(Node* node) {
  detach(node);
  update_interest();
}

void FdWatch::update_interest() {
  uint32_t wanted = 0;
  for (Node* node = head_; node != nullptr; node = node->next) wanted |= node->events;
  if (head_ != nullptr) {
    // Level-triggered: interest nobody waits for any more would be reported
    // on every loop iteration.
    if (wanted == interest_) return;
    try {
      loop_.poller().modify(token_, watched_fd_, wanted);
      interest_ = wanted;
      return;
    } catch (const std::system_error&) {
      wake_all_and_release();
      return;
    }
  }
  loop_.poller().remove(token_, watched_fd_);
  if (watched_fd_ != fd_) patch::original::close(watched_fd_);
  watches->erase(fd_);
  if (watches->empty()) {
    delete watches;
    watches = nullptr;
  }
  delete this;
}

void FdWatch::wake_all_and_release() {
  while (Node* node = head_) {
    detach(node);
    node->wait->ready_ = true;
    internal::wake(node->wait->task_);
  }
  update_interest();
}

void FdWatch::close_all() {
  while (Node* node = head_) {
    detach(node);
    node->wait->closed_ = true;
    internal::wake(node->wait->task_);
  }
  update_interest();
}

void FdWatch::on_poll_events(uint32_t events) {
  for (Node* node = head_; node != nullptr;) {
    Node* next = node->next;
    if ((events & (node->events | kAlwaysReported)) != 0) {
      detach(node);
      node->wait->ready_ = true;
      internal::wake(node->wait->task_);
    }
    node = next;
  }
  update_interest();  // may delete `this`: nothing after it
}

// --- CooperativeWait -------------------------------------------------------------

void CooperativeWait::Deadline::fire() {
  wait->timed_out_ = true;
  internal::wake(wait->task_);
}

CooperativeWait::CooperativeWait(BlockingContext& task, Interrupt interrupt)
    : task_(task), interrupt_(interrupt) {
  timer_.wait = this;
}

CooperativeWait::~CooperativeWait() {
  if (timer_.armed()) task_.loop->remove_timer(&timer_);
  for (auto& node : nodes_) {
    if (node->watch != nullptr) node->watch->unlink(node.get());
  }
}

bool CooperativeWait::watch(int fd, uint32_t events) {
  // The node is owned before it is linked anywhere, so an allocation failure
  // (std::bad_alloc, for the caller) cannot leave a dangling link.
  nodes_.push_back(std::make_unique<Node>());
  Node* node = nodes_.back().get();
  node->wait = this;
  node->events = events;
  FdWatch* watch = FdWatch::find_or_create(*task_.loop, fd, events);
  if (watch == nullptr || !watch->link(node)) {
    nodes_.pop_back();
    return false;
  }
  return true;
}

void CooperativeWait::notify() {
  ready_ = true;
  internal::wake(task_);
}

bool CooperativeWait::interrupted() {
  if (!task_.pending) return false;
  if (interrupt_ == Interrupt::kOncePerDelivery) {
    try {
      std::exception_ptr& reported = last_interruption().get();
      if (reported == task_.pending) return false;
      reported = task_.pending;
    } catch (const std::bad_alloc&) {
      // No memory to remember it: interrupting again is the safe side.
    }
  }
  internal::keep_pending(task_);
  return true;
}

int interrupted_errno(const BlockingContext& task) {
  if (!task.pending) return ECANCELED;
  try {
    std::rethrow_exception(task.pending);
  } catch (const Timeout&) {
    return ETIMEDOUT;
  } catch (...) {
  }
  return ECANCELED;
}

WaitOutcome CooperativeWait::wait() {
  if (closed_) return WaitOutcome::kClosed;
  if (ready_) return WaitOutcome::kReady;
  if (interrupted()) return WaitOutcome::kInterrupted;
  Scheduler& loop = *task_.loop;
  if (deadline_) {
    if (*deadline_ <= std::chrono::steady_clock::now()) return WaitOutcome::kTimedOut;
    loop.add_timer(&timer_, *deadline_);
  }
  // The loop must not finish under a task waiting for an fd it cannot see.
  loop.retain();
  struct Release {
    ~Release() { loop.release(); }
    Scheduler& loop;
  } release{loop};
  for (;;) {
    internal::park(task_);
    // A readiness that raced with a delivery wins, as in WaitQueue: the
    // exception stays pending for the next suspension point.
    if (closed_) return WaitOutcome::kClosed;
    if (ready_) return WaitOutcome::kReady;
    if (interrupted()) return WaitOutcome::kInterrupted;
    if (timed_out_) return WaitOutcome::kTimedOut;
    // Woken by a delivery since withdrawn (a cancelled Timeout): wait on.
  }
}

void wake_waiters_on_close(int fd) {
  if (FdWatch* watch = FdWatch::find(fd)) watch->close_all();
}

WaitOutcome sleep_until(BlockingContext& task, TimePoint deadline) {
  if (deadline <= std::chrono::steady_clock::now()) {
    // A zero sleep yields: everything ready runs first.
    internal::wake(task);
    internal::park(task);
    return WaitOutcome::kTimedOut;
  }
  CooperativeWait wait(task, Interrupt::kOncePerDelivery);
  wait.set_deadline(deadline);
  return wait.wait();
}

}  // namespace evergreen::patch_internal
