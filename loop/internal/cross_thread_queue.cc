#include "evergreen/loop/internal/cross_thread_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace evergreen::internal {

CrossThreadQueue::CrossThreadQueue() {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

CrossThreadQueue::~CrossThreadQueue() { ::close(wake_fd_); }

bool CrossThreadQueue::push(std::shared_ptr<CallbackRecord> record) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    records_.push_back(std::move(record));
  }
  pending_.store(true, std::memory_order_seq_cst);
  wake_if_sleeping();
  return true;
}

bool CrossThreadQueue::push_wake(CrossThreadWake* record) {
  CrossThreadWake* head = wakes_.load(std::memory_order_relaxed);
  do {
    if (head == closed_wakes()) return false;
    record->next = head;
  } while (!wakes_.compare_exchange_weak(head, record, std::memory_order_seq_cst,
                                         std::memory_order_relaxed));
  wakes_pushed_.fetch_add(1, std::memory_order_relaxed);
  wake_if_sleeping();
  return true;
}

CrossThreadWake* CrossThreadQueue::take_wakes() {
  if (!has_pending_wakes()) return nullptr;
  CrossThreadWake* head = wakes_.exchange(nullptr, std::memory_order_acquire);
  if (head == closed_wakes()) {
    wakes_.store(head, std::memory_order_relaxed);
    return nullptr;
  }
  // The stack holds the newest first: reverse it so contexts wake in the
  // order they were served.
  CrossThreadWake* oldest_first = nullptr;
  while (head != nullptr) {
    CrossThreadWake* next = head->next;
    head->next = oldest_first;
    oldest_first = head;
    head = next;
  }
  return oldest_first;
}

void CrossThreadQueue::wake_if_sleeping() {
  // seq_cst pairs with begin_sleep(): either the loop sees the push before it
  // sleeps, or we see sleeping_ and write the eventfd.
  // Only the first push that finds the loop asleep writes the eventfd: the
  // exchange clears the flag, so a burst of pushes costs one system call.
  if (sleeping_.load(std::memory_order_seq_cst) &&
      sleeping_.exchange(false, std::memory_order_seq_cst)) {
    uint64_t one = 1;
    ssize_t written = write(wake_fd_, &one, sizeof one);
    (void)written;  // EAGAIN means a wake-up is already pending: enough.
    wakeups_written_.fetch_add(1, std::memory_order_relaxed);
  }
}

void CrossThreadQueue::drain(std::vector<std::shared_ptr<CallbackRecord>>& out) {
  pending_.store(false, std::memory_order_seq_cst);
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& record : records_) out.push_back(std::move(record));
  records_.clear();
}

bool CrossThreadQueue::begin_sleep() {
  sleeping_.store(true, std::memory_order_seq_cst);
  if (pending_.load(std::memory_order_seq_cst) ||
      wakes_.load(std::memory_order_seq_cst) != nullptr) {
    sleeping_.store(false, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void CrossThreadQueue::end_sleep() { sleeping_.store(false, std::memory_order_relaxed); }

void CrossThreadQueue::on_poll_events(uint32_t) {
  uint64_t count;
  ssize_t got = read(wake_fd_, &count, sizeof count);
  (void)got;
}

void CrossThreadQueue::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  CrossThreadWake* left = wakes_.exchange(closed_wakes(), std::memory_order_acquire);
  if (left == closed_wakes()) return;
  for (; left != nullptr; left = left->next) left->consumed.store(true, std::memory_order_release);
}

bool CrossThreadQueue::closed() {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

}  // namespace evergreen::internal
