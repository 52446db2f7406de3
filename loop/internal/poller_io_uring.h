// IoUringPoller: the Poller (poller.h) on io_uring, through liburing.
//
// Readiness is IORING_OP_POLL_ADD, cancelled with IORING_OP_ASYNC_CANCEL. An edge-triggered
// registration is one multishot poll, which posts a completion per wake-up of the file as EPOLLET
// reports one per change; a level-triggered one is a one-shot poll armed
// again after each completion, so it reports on every loop iteration while
// the fd stays ready, as epoll's level-triggered mode does. A multishot poll
// the kernel ends (no IORING_CQE_F_MORE: a full completion queue, a kernel
// without multishot poll) is re-armed the same way, one-shot from then on if
// the kernel refused multishot.
//
// Everything queued during a loop iteration (arms, re-arms, cancellations) is
// submitted by the one io_uring_enter that also waits for completions, except
// for remove(): its cancellation is sent at once, so that the kernel drops its
// reference to the file before remove() returns and close() closes the
// socket then, as with epoll (a peer sees end-of-file, a port can be bound
// again).
//
// Each completion carries user_data naming the registration's slot and the
// arm it belongs to: every cancellation, re-arm or removal moves the slot to
// a new arm number (never reused by the slot, even after the slot is given to
// another fd), so a completion of an older arm - already in the queue when
// its registration was removed, or posted for a file since closed - is
// dropped unread. The poller owns every piece of state a completion is
// checked against; no kernel operation points into memory of ours.
//
// Kernel operations (KernelOperation: file reads, writes and fsyncs; socket
// receives, sends, accepts and connects) are submitted the same way, queued until the iteration's
// io_uring_enter. Their user_data is the operation's address with bit 62 set; unlike polls, these
// point into memory of the caller's, who keeps it alive until on_complete() (or, if it can no
// longer park, waits in finish_operations()). cancel_operation() sends its IORING_OP_ASYNC_CANCEL
// at once, as remove() does, and finish_operation() waits for one operation's completion. The
// destructor waits for any still in flight, so the kernel never writes to memory after the ring is
// gone.
//
// The ring is the loop thread's alone: where the kernel allows it (6.1) it is
// set up with IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, so the
// kernel's completion work runs in a batch inside poll()'s io_uring_enter;
// such a ring finishes a cancellation only when asked for completions, so
// remove() and cancel_operation() submit asking for them. The ring fd is
// registered (io_uring_register_ring_fd) when the kernel allows.
//
// The ring is set up by set_up_ring() below; a kernel that refuses it makes
// the constructor throw std::system_error, which open_backend() turns into a
// fall-back to epoll for Backend::kAuto.
#ifndef EVERGREEN_LOOP_INTERNAL_POLLER_IO_URING_H_
#define EVERGREEN_LOOP_INTERNAL_POLLER_IO_URING_H_

#include <liburing.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "evergreen/loop/internal/poller.h"
#include "evergreen/loop/internal/slot_vector.h"

namespace evergreen::internal {

// How the ring is set up, apart from the ring itself so a test can drive it
// with made-up kernel answers. `attempt(entries, flags)` tries one set-up and
// returns 0 or a negative errno. Starting from `entries` with `newer_flags`:
// EINVAL drops the newer flags (an older kernel), ENOMEM halves the ring down
// to `minimum_entries` (a small locked-memory limit on kernels before 5.12),
// anything else (EPERM from seccomp or the io_uring_disabled sysctl, ENOSYS)
// ends the attempts. Returns 0, or the last negative errno with `reason`
// describing it.
int set_up_ring(const std::function<int(unsigned entries, unsigned flags)>& attempt,
                unsigned entries, unsigned minimum_entries, unsigned newer_flags,
                std::string& reason);
// The same with several sets of newer flags, newest first: EINVAL moves on to
// the next set, and after the last to no flags at all.
int set_up_ring(const std::function<int(unsigned entries, unsigned flags)>& attempt,
                unsigned entries, unsigned minimum_entries,
                const std::vector<unsigned>& newer_flag_sets, std::string& reason);

class IoUringPoller final : public Poller {
 public:
  // Throws std::system_error whose message says which step the kernel
  // refused (or which feature it lacks).
  IoUringPoller();
  ~IoUringPoller() override;
  IoUringPoller(const IoUringPoller&) = delete;
  IoUringPoller& operator=(const IoUringPoller&) = delete;

  Token add(int fd, uint32_t events, PollHandler* handler) override;
  void modify(Token token, int fd, uint32_t events) override;
  void remove(Token token, int fd) override;
  int poll(int timeout_ms) override;
  bool performs_operations() const override { return true; }
  void submit_operation(KernelOperation& operation) override;
  void finish_operations() override;
  void cancel_operation(KernelOperation& operation) override;
  void finish_operation(KernelOperation& operation) override;

  // The ring's size, after any shrinking at set-up (for tests).
  unsigned ring_entries() const { return ring_.sq.ring_entries; }
  // The IORING_SETUP_* flags the kernel accepted (for tests).
  unsigned ring_flags() const { return ring_.flags; }

 private:
  struct Slot {
    PollHandler* handler = nullptr;
    uint32_t generation = 0;  // of the registration (the token's)
    uint32_t arm = 0;         // of the poll in flight (user_data's)
    int fd = -1;
    uint32_t events = 0;  // kPoll*
    bool armed = false;
  };
  struct Completion {
    uint64_t user_data;
    int32_t result;
    uint32_t flags;
  };

  void check_pollable(int fd, const char* what);
  Slot* find(Token token);
  io_uring_sqe* next_sqe();
  void arm(uint32_t index);
  // arm() unless armed; if the submission queue has no room, later.
  void rearm(uint32_t index);
  void arm_deferred();
  void cancel(uint32_t index);
  // Sends what is queued; returns 0 or a negative errno. With
  // `finish_cancellations`, cancellations among it have also ended their
  // operations (and dropped their files) when it returns.
  int submit_queued(bool finish_cancellations = false);
  // Moves completions from the ring into backlog_; returns how many.
  size_t reap();
  // Returns whether the completion was delivered to a handler.
  bool dispatch(const Completion& completion);
  // Delivers an operation's completion (user_data with kOperation).
  void complete_operation(const Completion& completion);
  // Blocks in the ring, delivering operations' completions, until `done`.
  void finish_until(const std::function<bool()>& done);

  io_uring ring_{};
  // An epoll set that only answers whether epoll could watch an fd (see
  // check_pollable()); made on first need.
  int probe_epoll_fd_ = -1;
  bool multishot_ = true;
  // Operations submitted whose completion has not been delivered.
  size_t operations_in_flight_ = 0;
  SlotVector<Slot> slots_;
  // Completions taken off the ring but not yet delivered (the ring had to be
  // emptied to submit, outside poll()).
  std::vector<Completion> backlog_;
  // The completions poll() is dispatching, and the index of the next one.
  std::vector<Completion> batch_;
  size_t batch_next_ = 0;
  // Registrations to arm again at the next poll() (see rearm()).
  struct DeferredArm {
    uint32_t index;
    uint32_t generation;
  };
  std::vector<DeferredArm> deferred_arms_;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_POLLER_IO_URING_H_
