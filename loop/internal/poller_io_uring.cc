#include "evergreen/loop/internal/poller_io_uring.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "evergreen/fiber/internal/fatal_error.h"

namespace evergreen::internal {
namespace {

// Sized for a loop iteration's arms and re-arms; a full queue is submitted
// early, so this bounds only how many go per system call.
constexpr unsigned kRingEntries = 256;
constexpr unsigned kMinimumRingEntries = 8;
// Room for many more completions than submissions: a multishot poll posts
// one per wake-up without a submission of its own.
constexpr unsigned kCompletionsPerEntry = 8;
// Each a kernel may lack (EINVAL): continue past a failed submission (5.18),
// no interrupt to run completion work (5.19), tell userspace it is pending.
constexpr unsigned kNewerFlags =
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
// Tried first, on top of those (6.1): completion work (a receive copying its
// data, a send's result) waits until the loop asks for completions, so it
// runs in one batch inside the loop's io_uring_enter rather than on the way
// out of every other system call the thread makes. Needs a single submitting
// thread, which the loop is: the ring is made, used and torn down on the
// loop's thread only (cross-thread wake-ups write the loop's eventfd, never
// the ring). EINVAL (an older kernel) drops them first, then the rest.
constexpr unsigned kDeferredTaskRunFlags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
constexpr size_t kBatch = 256;
// How often one poll() takes completions off the ring: more than once picks
// up what the handlers' own submissions completed, a bound keeps the
// iteration's other work (timers, ready tasks) from waiting on a busy ring.
constexpr int kReapRounds = 4;

// user_data: bit 63 marks our own operations (cancellations) whose
// completions are ignored; bit 62 a KernelOperation, whose address is the
// rest (user-space addresses stay below bit 57); otherwise the arm number
// (31 bits) and the slot.
constexpr uint64_t kInternal = uint64_t{1} << 63;
constexpr uint64_t kOperation = uint64_t{1} << 62;
constexpr uint32_t kArmMask = 0x7fffffff;

uint64_t make_user_data(uint32_t slot, uint32_t arm) {
  return (static_cast<uint64_t>(arm & kArmMask) << 32) | slot;
}
uint64_t make_token(uint32_t slot, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | slot;
}

uint32_t to_poll(uint32_t events) {
  uint32_t out = 0;
  if (events & kPollIn) out |= POLLIN;
  if (events & kPollPriority) out |= POLLPRI;
  if (events & kPollOut) out |= POLLOUT;
  if (events & kPollPeerClosed) out |= POLLRDHUP;
  return out;
}

uint32_t from_poll(uint32_t events) {
  uint32_t out = 0;
  if (events & POLLIN) out |= kPollIn;
  if (events & POLLPRI) out |= kPollPriority;
  if (events & POLLOUT) out |= kPollOut;
  if (events & POLLERR) out |= kPollError;
  if (events & POLLHUP) out |= kPollHangUp;
  if (events & POLLRDHUP) out |= kPollPeerClosed;
  return out;
}

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

}  // namespace

// epoll refuses files that cannot block, and callers rely on that (io and
// patch treat them as always ready); an io_uring poll on one would complete at
// once, and a multishot one would end at once, to be re-armed on every
// iteration. So the same files are refused here: sockets and pipes can always
// be polled, regular files and directories never, and anything else (devices,
// eventfd, timerfd, ...) is asked of a probing epoll set, as epoll would
// decide. Also catches a closed fd now rather than in a completion.
void IoUringPoller::check_pollable(int fd, const char* what) {
  auto refuse = [&](int error, const char* why) {
    throw_errno(error,
                std::string("evergreen: cannot ") + what + " fd " + std::to_string(fd) + why);
  };
  struct stat info;
  if (fstat(fd, &info) != 0) refuse(errno, "");
  if (S_ISSOCK(info.st_mode) || S_ISFIFO(info.st_mode)) return;
  if (S_ISREG(info.st_mode) || S_ISDIR(info.st_mode)) {
    refuse(EPERM, " (a regular file or directory never blocks)");
  }
  if (probe_epoll_fd_ < 0) {
    probe_epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (probe_epoll_fd_ < 0) refuse(errno, " (epoll_create1 for the poll check)");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  if (epoll_ctl(probe_epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    if (errno == EPERM) refuse(EPERM, " (it never blocks)");
    if (errno != EEXIST) refuse(errno, "");
  }
  epoll_ctl(probe_epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

int set_up_ring(const std::function<int(unsigned entries, unsigned flags)>& attempt,
                unsigned entries, unsigned minimum_entries, unsigned newer_flags,
                std::string& reason) {
  return set_up_ring(attempt, entries, minimum_entries, std::vector<unsigned>{newer_flags},
                     reason);
}

int set_up_ring(const std::function<int(unsigned entries, unsigned flags)>& attempt,
                unsigned entries, unsigned minimum_entries,
                const std::vector<unsigned>& newer_flag_sets, std::string& reason) {
  size_t next_set = 0;
  unsigned flags = newer_flag_sets.empty() ? 0 : newer_flag_sets[next_set++];
  for (;;) {
    int result = attempt(entries, flags);
    if (result == 0) return 0;
    if (result == -EINVAL && flags != 0) {
      flags = next_set < newer_flag_sets.size() ? newer_flag_sets[next_set++] : 0;
      continue;
    }
    if (result == -ENOMEM && entries / 2 >= minimum_entries) {
      entries /= 2;
      continue;
    }
    reason = "io_uring_setup failed with " + std::to_string(entries) + " entries: " +
             std::strerror(-result);
    if (result == -EPERM) {
      reason += " (refused by seccomp or the kernel.io_uring_disabled sysctl)";
    } else if (result == -ENOSYS) {
      reason += " (the kernel has no io_uring)";
    } else if (result == -ENOMEM) {
      reason += " (the locked-memory limit is too small)";
    }
    return result;
  }
}

IoUringPoller::IoUringPoller() {
  std::string reason;
  int result = set_up_ring(
      [this](unsigned entries, unsigned flags) {
        io_uring_params params{};
        params.flags = flags | IORING_SETUP_CQSIZE;
        params.cq_entries = entries * kCompletionsPerEntry;
        return io_uring_queue_init_params(entries, &ring_, &params);
      },
      kRingEntries, kMinimumRingEntries, {kNewerFlags | kDeferredTaskRunFlags, kNewerFlags},
      reason);
  if (result != 0) throw_errno(-result, "evergreen: io_uring: " + reason);
  // Without NODROP (5.5) a full completion queue loses completions; without
  // EXT_ARG (5.11) waiting with a timeout costs a submission.
  constexpr unsigned kNeeded = IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG;
  if ((ring_.features & kNeeded) != kNeeded) {
    io_uring_queue_exit(&ring_);
    throw_errno(ENOSYS,
                "evergreen: io_uring: the kernel lacks IORING_FEAT_NODROP or IORING_FEAT_EXT_ARG "
                "(Linux 5.11 or later is needed)");
  }
  // Each io_uring_enter then names the ring by its registered index, sparing
  // the kernel a file-table look-up per call (5.18); optional.
  io_uring_register_ring_fd(&ring_);
  batch_.reserve(kBatch);
}

IoUringPoller::~IoUringPoller() {
  // Every caller waits for its own operations, so none should be left; if
  // one were, the kernel must be done with its memory before the ring goes.
  if (operations_in_flight_ > 0) finish_operations();
  io_uring_queue_exit(&ring_);
  if (probe_epoll_fd_ >= 0) close(probe_epoll_fd_);
}

IoUringPoller::Slot* IoUringPoller::find(Token token) {
  uint32_t index = static_cast<uint32_t>(token);
  uint32_t generation = static_cast<uint32_t>(token >> 32);
  if (index >= slots_.size()) return nullptr;
  Slot& slot = slots_[index];
  if (slot.handler == nullptr || slot.generation != generation) return nullptr;
  return &slot;
}

io_uring_sqe* IoUringPoller::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe != nullptr) return sqe;
  // The submission queue is full: send it now, then there is room.
  int result = submit_queued();
  if (result < 0) throw_errno(-result, "evergreen: io_uring: cannot submit");
  sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) throw_errno(EBUSY, "evergreen: io_uring: the submission queue stays full");
  return sqe;
}

void IoUringPoller::arm(uint32_t index) {
  Slot& slot = slots_[index];
  io_uring_sqe* sqe = next_sqe();
  uint32_t mask = to_poll(slot.events);
  if ((slot.events & kPollEdgeTriggered) && multishot_) {
    io_uring_prep_poll_multishot(sqe, slot.fd, mask);
  } else {
    io_uring_prep_poll_add(sqe, slot.fd, mask);
  }
  io_uring_sqe_set_data64(sqe, make_user_data(index, slot.arm));
  slot.armed = true;
}

void IoUringPoller::cancel(uint32_t index) {
  Slot& slot = slots_[index];
  if (slot.armed) {
    io_uring_sqe* sqe = next_sqe();
    // IORING_OP_ASYNC_CANCEL rather than IORING_OP_POLL_REMOVE: the latter
    // fails with EALREADY, leaving a multishot poll armed, when the poll's
    // wake-up is being processed at that moment (as when it was armed in the
    // same submission on a ready fd); a cancellation marks it cancelled and
    // it ends when that processing does, before io_uring_enter returns.
    io_uring_prep_cancel64(sqe, make_user_data(index, slot.arm), 0);
    io_uring_sqe_set_data64(sqe, kInternal);
    slot.armed = false;
  }
  // Whatever the old arm still completes with is dropped from now on.
  slot.arm = (slot.arm + 1) & kArmMask;
}

void IoUringPoller::rearm(uint32_t index) {
  if (slots_[index].armed) return;
  try {
    arm(index);
  } catch (const std::system_error&) {
    // No room in the submission queue even after submitting (the kernel
    // holds back while completions overflow): poll() tries again, rather
    // than an exception escaping the loop with completions undelivered.
    deferred_arms_.push_back({index, slots_[index].generation});
  }
}

void IoUringPoller::arm_deferred() {
  std::vector<DeferredArm> deferred;
  deferred.swap(deferred_arms_);
  for (const DeferredArm& entry : deferred) {
    Slot& slot = slots_[entry.index];
    if (slot.handler == nullptr || slot.generation != entry.generation) continue;
    rearm(entry.index);
  }
}

int IoUringPoller::submit_queued(bool finish_cancellations) {
  // With deferred task running a cancelled poll or operation lets go of its
  // file only when the kernel runs the ring's completion work, which it does
  // when asked for completions: so a cancellation that must take effect now
  // submits asking for them (no waiting: none are required).
  finish_cancellations = finish_cancellations && (ring_.flags & IORING_SETUP_DEFER_TASKRUN);
  // Bounded: EBUSY means completions must be taken off the ring first (the
  // kernel holds overflowed ones until there is room), which reap() does.
  for (int tries = 0; tries < 64; ++tries) {
    int result = finish_cancellations ? io_uring_submit_and_get_events(&ring_)
                                      : io_uring_submit(&ring_);
    if (result >= 0) return 0;
    if (result == -EINTR) continue;
    if (result != -EBUSY && result != -EAGAIN) return result;
    // With deferred task running, completions reach the ring only when the
    // kernel is asked for them.
    io_uring_get_events(&ring_);
    reap();
  }
  return -EBUSY;
}

Poller::Token IoUringPoller::add(int fd, uint32_t events, PollHandler* handler) {
  check_pollable(fd, "watch");
  uint32_t index = slots_.acquire();
  Slot& slot = slots_[index];
  slot.handler = handler;
  slot.fd = fd;
  slot.events = events;
  try {
    arm(index);
  } catch (...) {
    slot.handler = nullptr;
    ++slot.generation;
    slots_.release(index);
    throw;
  }
  ++live_;
  return make_token(index, slot.generation);
}

void IoUringPoller::modify(Token token, int fd, uint32_t events) {
  Slot* slot = find(token);
  if (slot == nullptr) {
    throw_errno(ENOENT, "evergreen: cannot change watch on fd " + std::to_string(fd));
  }
  check_pollable(fd, "change watch on");
  uint32_t index = static_cast<uint32_t>(token);
  // A new poll even if the events stay the same: the old one polls the file
  // the fd named when it was armed, which may since have been closed.
  cancel(index);
  slots_[index].fd = fd;
  slots_[index].events = events;
  arm(index);
}

void IoUringPoller::remove(Token token, int) {
  Slot* slot = find(token);
  if (slot == nullptr) return;
  uint32_t index = static_cast<uint32_t>(token);
  try {
    cancel(index);
  } catch (const std::system_error&) {
    // No room to queue the cancellation even after submitting: the poll
    // stays armed but its completions are dropped (the arm moved on), and
    // the ring's teardown cancels it at the latest.
    slot->arm = (slot->arm + 1) & kArmMask;
    slot->armed = false;
  }
  slot->handler = nullptr;
  slot->fd = -1;
  ++slot->generation;
  slots_.release(index);
  --live_;
  // Sent now (see the header): a failure leaves it queued for poll().
  submit_queued(/*finish_cancellations=*/true);
}

size_t IoUringPoller::reap() {
  io_uring_cqe* cqes[kBatch];
  size_t total = 0;
  for (;;) {
    unsigned count = io_uring_peek_batch_cqe(&ring_, cqes, kBatch);
    for (unsigned i = 0; i < count; ++i) {
      backlog_.push_back({cqes[i]->user_data, cqes[i]->res, cqes[i]->flags});
    }
    io_uring_cq_advance(&ring_, count);
    total += count;
    if (count < kBatch) return total;
  }
}

void IoUringPoller::submit_operation(KernelOperation& operation) {
  io_uring_sqe* sqe = next_sqe();
  // -1 reads or writes at the file offset and advances it
  // (IORING_FEAT_RW_CUR_POS, Linux 5.6; the ring needs 5.11 anyway).
  const uint64_t offset = static_cast<uint64_t>(operation.offset);
  switch (operation.kind) {
    case KernelOperation::Kind::kRead:
      io_uring_prep_read(sqe, operation.fd, operation.buffer, operation.length, offset);
      break;
    case KernelOperation::Kind::kWrite:
      io_uring_prep_write(sqe, operation.fd, operation.buffer, operation.length, offset);
      break;
    case KernelOperation::Kind::kFsync:
      io_uring_prep_fsync(sqe, operation.fd, 0);
      break;
    case KernelOperation::Kind::kRecv:
      io_uring_prep_recv(sqe, operation.fd, operation.buffer, operation.length, 0);
      break;
    case KernelOperation::Kind::kSend:
      io_uring_prep_send(sqe, operation.fd, operation.buffer, operation.length, MSG_NOSIGNAL);
      break;
    case KernelOperation::Kind::kSendNow:
      // MSG_DONTWAIT also tells io_uring to post -EAGAIN rather than wait
      // for room itself.
      io_uring_prep_send(sqe, operation.fd, operation.buffer, operation.length,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      break;
    case KernelOperation::Kind::kAccept:
      io_uring_prep_accept(sqe, operation.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      break;
    case KernelOperation::Kind::kConnect:
      io_uring_prep_connect(sqe, operation.fd, static_cast<const sockaddr*>(operation.buffer),
                            operation.length);
      break;
    case KernelOperation::Kind::kRecvMsg:
      io_uring_prep_recvmsg(sqe, operation.fd, static_cast<msghdr*>(operation.buffer), MSG_TRUNC);
      break;
    case KernelOperation::Kind::kSendMsg:
      io_uring_prep_sendmsg(sqe, operation.fd, static_cast<const msghdr*>(operation.buffer),
                            MSG_NOSIGNAL);
      break;
  }
  io_uring_sqe_set_data64(sqe, kOperation | reinterpret_cast<uintptr_t>(&operation));
  operation.in_flight = true;
  ++submitted_[static_cast<int>(operation.kind)];
  ++operations_in_flight_;
  ++live_;  // poll() has work to do while it is in flight
}

void IoUringPoller::complete_operation(const Completion& completion) {
  auto* operation = reinterpret_cast<KernelOperation*>(completion.user_data & ~kOperation);
  --operations_in_flight_;
  --live_;
  operation->in_flight = false;
  operation->on_complete(completion.result);
}

void IoUringPoller::cancel_operation(KernelOperation& operation) {
  if (!operation.in_flight) return;
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_cancel64(sqe, kOperation | reinterpret_cast<uintptr_t>(&operation), 0);
  io_uring_sqe_set_data64(sqe, kInternal);
  // Sent now: the operation (queued before it, perhaps in this same
  // submission) has taken its reference to the file by the time the caller
  // closes the fd. A failure leaves it queued for the next submission.
  submit_queued(/*finish_cancellations=*/true);
}

void IoUringPoller::finish_operation(KernelOperation& operation) {
  finish_until([&operation] { return !operation.in_flight; });
}

void IoUringPoller::finish_operations() {
  finish_until([this] { return operations_in_flight_ == 0; });
}

void IoUringPoller::finish_until(const std::function<bool()>& done) {
  for (;;) {
    // A handler dispatched from poll() (a signal handler closing a server, an
    // add_reader() callback closing a stream) may wait for an operation whose
    // completion was taken off the ring in the same batch and is not
    // dispatched yet: it is delivered from there, and dropped from the batch.
    for (size_t i = batch_next_; i < batch_.size(); ++i) {
      Completion& completion = batch_[i];
      if (!(completion.user_data & kInternal) && (completion.user_data & kOperation)) {
        Completion taken = completion;
        completion.user_data = kInternal;
        complete_operation(taken);
      }
    }
    // Hand over whatever completed already, keeping the readiness events.
    std::vector<Completion> kept;
    for (const Completion& completion : backlog_) {
      if (!(completion.user_data & kInternal) && (completion.user_data & kOperation)) {
        complete_operation(completion);
      } else {
        kept.push_back(completion);
      }
    }
    backlog_.swap(kept);
    if (done()) return;
    int result = submit_queued();
    if (result == 0) {
      io_uring_cqe* cqe = nullptr;
      result = io_uring_wait_cqe(&ring_, &cqe);
    }
    if (result < 0 && result != -EINTR && result != -EAGAIN && result != -EBUSY &&
        result != -ETIME) {
      // Giving up would let the kernel write into memory its owner is about
      // to free.
      fiber_internal::fatal_error(std::string("io_uring: cannot wait for kernel operations: ") +
                                  std::strerror(-result));
    }
    reap();
  }
}

bool IoUringPoller::dispatch(const Completion& completion) {
  if (completion.user_data & kInternal) return false;
  if (completion.user_data & kOperation) {
    complete_operation(completion);
    return true;
  }
  uint32_t index = static_cast<uint32_t>(completion.user_data);
  uint32_t arm_number = static_cast<uint32_t>(completion.user_data >> 32);
  // Re-read the slot each time: an earlier handler may have removed or
  // re-armed this registration.
  if (index >= slots_.size()) return false;
  Slot& slot = slots_[index];
  if (slot.handler == nullptr || slot.arm != arm_number) return false;
  if (!(completion.flags & IORING_CQE_F_MORE)) {
    // This poll is over: a one-shot one, or a multishot one the kernel ended.
    slot.armed = false;
    slot.arm = (slot.arm + 1) & kArmMask;
  }
  uint32_t events;
  if (completion.result >= 0) {
    events = from_poll(static_cast<uint32_t>(completion.result));
  } else if (completion.result == -EINVAL && (slot.events & kPollEdgeTriggered) && multishot_) {
    // A kernel without multishot poll (before 5.13): one-shot polls,
    // re-armed after each completion, from now on.
    multishot_ = false;
    rearm(index);
    return false;
  } else if (completion.result == -ECANCELED || completion.result == -EOVERFLOW) {
    // Ended by the kernel, not by us (ours carry an older arm number).
    rearm(index);
    return false;
  } else {
    // The fd cannot be polled (closed before the poll reached the kernel):
    // tell the listeners, who find out why when they use it; polling it
    // again would only fail again.
    slot.handler->on_poll_events(kPollError);
    return true;
  }
  // Armed again before the handler runs, which may well remove or modify the
  // registration (cancelling this new arm) or close the fd.
  rearm(index);
  slot.handler->on_poll_events(events);
  return true;
}

int IoUringPoller::poll(int timeout_ms) {
  if (!deferred_arms_.empty()) arm_deferred();
  if (!backlog_.empty() || !deferred_arms_.empty()) timeout_ms = 0;
  int result;
  if (timeout_ms < 0) {
    result = io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec timeout{};
    timeout.tv_sec = timeout_ms / 1000;
    timeout.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1'000'000;
    io_uring_cqe* first = nullptr;
    result = io_uring_submit_and_wait_timeout(&ring_, &first, 1, &timeout, nullptr);
  }
  if (result < 0 && result != -ETIME && result != -EINTR && result != -EBUSY &&
      result != -EAGAIN) {
    throw_errno(-result, "evergreen: io_uring_enter");
  }
  int delivered = 0;
  for (int round = 0; round < kReapRounds; ++round) {
    reap();
    if (backlog_.empty()) break;
    batch_.swap(backlog_);
    // By index: a handler may finish operations whose completions wait
    // further on in this batch (finish_until() takes them from there).
    for (batch_next_ = 0; batch_next_ < batch_.size();) {
      Completion completion = batch_[batch_next_++];
      delivered += dispatch(completion) ? 1 : 0;
    }
    batch_.clear();
    batch_next_ = 0;
  }
  return delivered;
}

}  // namespace evergreen::internal
