// evergreen/sync/thread_safe_queue.h
//
// ThreadSafeQueue<T>: a FIFO queue shared by tasks on any loops and by plain
// threads at once, the way work crosses loops in a LoopGroup. It has Queue's
// members and meanings (queue.h), plus close().
//
//   ThreadSafeQueue<Job> jobs(1024);
//   group.post_each([&](size_t) {
//     for (Job job : jobs) run(job);   // until jobs.close(), then drained
//   });
//   jobs.put(make_job());              // from any task or thread
//
// Guarantees:
// - A task (or a thread's main context) that waits blocks only itself: its
//   loop runs its other tasks meanwhile. A thread without a loop blocks its
//   OS thread. Kill and Timeout interrupt a task's wait.
// - Blocked get() calls are served in the order they blocked, and so are
//   blocked put() calls, whatever loop or thread they come from. An item put
//   while a consumer waits goes straight to the longest-waiting consumer; a
//   slot freed while a producer waits goes to the longest-waiting producer.
// - No item is lost or delivered twice: a wait that times out or is killed
//   leaves having taken or given nothing, unless it was served first, and
//   then it completes (a kill or Timeout stays pending for the task's next
//   suspension point). See internal/cross_thread_waiter.h.
// - close(): later put() calls throw QueueClosed; get() calls take what is
//   left, then throw QueueClosed; blocked callers are woken with QueueClosed.
//   `for (T item : queue)` takes items until the queue is closed and drained.
// - Waking a task on another loop costs no system call while that loop is
//   busy or spinning (a LoopGroup's loop watches for work for a moment
//   after work arrived: LoopOptions::cross_thread_spin), and one per sleep
//   however many items arrive (see EventLoop's cross-thread queue). Moving
//   many items? Put them in batches (ThreadSafeQueue<std::vector<T>>): one
//   lock and at most one wake-up per batch.
// - The queue must outlive every call blocked on it.
#ifndef EVERGREEN_SYNC_THREAD_SAFE_QUEUE_H_
#define EVERGREEN_SYNC_THREAD_SAFE_QUEUE_H_

#include <chrono>
#include <cstddef>
#include <deque>
#include <iterator>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "evergreen/fiber/internal/cache_line.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/sync/internal/cross_thread_waiter.h"
#include "evergreen/sync/queue.h"
#include "evergreen/sync/queue_closed.h"

namespace evergreen {

template <class T>
class ThreadSafeQueue {
  using Waiter = internal::CrossThreadWaiter;

 public:
  // A queue holding at most `maxsize` items; 0 means unbounded.
  explicit ThreadSafeQueue(size_t maxsize = 0) : maxsize_(maxsize) {}
  ThreadSafeQueue(const ThreadSafeQueue&) = delete;
  ThreadSafeQueue& operator=(const ThreadSafeQueue&) = delete;

  // Items in the queue now (not counting those of blocked producers).
  size_t qsize() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }
  bool empty() const { return qsize() == 0; }
  // Whether a put() would block now.
  bool full() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return is_full();
  }
  size_t maxsize() const { return maxsize_; }
  // Items put and not yet marked done with task_done().
  size_t unfinished_tasks() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return unfinished_;
  }
  bool closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_;
  }

  // ThreadSafeQueue::put()
  //
  // Adds `item` (or hands it to the longest-waiting consumer). If the queue
  // is full: with `block` false throws Full at once (`timeout` ignored);
  // otherwise blocks until a get() frees a slot for it, or throws Full once
  // `timeout` passes. Throws QueueClosed if the queue is closed (before or
  // while blocked). Raises a kill or Timeout delivered while blocked (the
  // item is then not added). Throws std::runtime_error if it would block in a
  // loop callback.
  void put(T item, bool block = true, std::optional<Duration> timeout = std::nullopt) {
    if (!offer(item, block, deadline_after(timeout),
               block ? "ThreadSafeQueue::put" : "ThreadSafeQueue::put_nowait")) {
      throw Full();
    }
  }
  void put_nowait(T item) { put(std::move(item), false); }

  // ThreadSafeQueue::try_put() / put_for()
  //
  // put() that reports a full queue by returning false instead of throwing
  // Full (the item is then dropped). try_put() never blocks; put_for()
  // waits up to `timeout`. Still throw QueueClosed, and raise a kill or
  // Timeout delivered to the task.
  bool try_put(T item) { return offer(item, false, std::nullopt, "ThreadSafeQueue::try_put"); }
  template <class Rep, class Period>
  bool put_for(T item, std::chrono::duration<Rep, Period> timeout) {
    return offer(item, true, deadline_after(std::chrono::ceil<Duration>(timeout)),
                 "ThreadSafeQueue::put_for");
  }

  // ThreadSafeQueue::get()
  //
  // Removes and returns the next item. If the queue is empty: with `block`
  // false throws Empty at once (`timeout` ignored); otherwise blocks until a
  // put() hands it an item, or throws Empty once `timeout` passes. Once the
  // queue is closed and drained, throws QueueClosed (a blocked get() is woken
  // with it). Raises a kill or Timeout delivered while blocked (no item is
  // taken). Throws std::runtime_error if it would block in a loop callback.
  T get(bool block = true, std::optional<Duration> timeout = std::nullopt) {
    std::optional<T> item = take(block, deadline_after(timeout),
                                 block ? "ThreadSafeQueue::get" : "ThreadSafeQueue::get_nowait");
    if (!item) throw Empty();
    return std::move(*item);
  }
  T get_nowait() { return get(false); }

  // ThreadSafeQueue::try_get() / get_for()
  //
  // get() that reports "no item" as std::nullopt instead of throwing Empty.
  // try_get() never blocks; get_for() waits up to `timeout`. Still throw
  // QueueClosed once a closed queue is drained.
  std::optional<T> try_get() { return take(false, std::nullopt, "ThreadSafeQueue::try_get"); }
  template <class Rep, class Period>
  std::optional<T> get_for(std::chrono::duration<Rep, Period> timeout) {
    return take(true, deadline_after(std::chrono::ceil<Duration>(timeout)),
                "ThreadSafeQueue::get_for");
  }

  // ThreadSafeQueue::task_done()
  //
  // Marks one item taken with get() as processed; when every item put has
  // been, wakes the callers blocked in join(). Throws std::invalid_argument
  // if called more times than items were put. Never blocks.
  void task_done() {
    Waiter::DeferredWakes wakes;  // sent after `lock` is released
    std::lock_guard<std::mutex> lock(mutex_);
    if (unfinished_ == 0) {
      throw std::invalid_argument(
          "evergreen: ThreadSafeQueue::task_done() called more times than there were items put");
    }
    if (--unfinished_ == 0) {
      while (Waiter* joiner = joiners_.front()) {
        joiner->notify(joiners_, Waiter::Outcome::kServed, wakes);
      }
    }
  }

  // ThreadSafeQueue::join()
  //
  // Blocks until every item put has been marked done with task_done(), or
  // until `timeout` passes; returns whether everything is done. Raises a
  // kill or Timeout delivered while blocked.
  bool join(std::optional<Duration> timeout = std::nullopt) {
    std::optional<TimePoint> deadline = deadline_after(timeout);
    std::unique_lock<std::mutex> lock(mutex_);
    // Woken when the count reached zero; a put() may have raised it again
    // before this caller ran, hence the loop.
    while (unfinished_ > 0) {
      Waiter waiter;
      if (!waiter.wait(lock, joiners_, deadline, "ThreadSafeQueue::join")) return unfinished_ == 0;
      if (!lock.owns_lock()) lock.lock();  // woken from another thread
    }
    return true;
  }

  // ThreadSafeQueue::close()
  //
  // See the file comment. Closing again does nothing.
  void close() {
    Waiter::DeferredWakes wakes;  // sent after `lock` is released
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    // Blocked consumers mean an empty queue: nothing left for them.
    while (Waiter* getter = getters_.front()) {
      getter->notify(getters_, Waiter::Outcome::kClosed, wakes);
    }
    // Blocked producers' items are not added.
    while (Waiter* putter = putters_.front()) {
      putter->notify(putters_, Waiter::Outcome::kClosed, wakes);
    }
  }

  // Iteration takes items with get() until the queue is closed and drained;
  // dereferencing yields the item as an rvalue, so `for (T item : queue)`
  // works for move-only items too. It does not call task_done().
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    T&& operator*() { return std::move(*item_); }
    iterator& operator++() {
      next();
      return *this;
    }
    void operator++(int) { next(); }
    bool operator==(std::default_sentinel_t) const { return queue_ == nullptr; }

   private:
    friend class ThreadSafeQueue;
    explicit iterator(ThreadSafeQueue* queue) : queue_(queue) { next(); }
    void next() {
      try {
        item_.emplace(queue_->get());
      } catch (const QueueClosed&) {
        queue_ = nullptr;
        item_.reset();
      }
    }
    ThreadSafeQueue* queue_ = nullptr;
    std::optional<T> item_;
  };
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  static std::optional<TimePoint> deadline_after(std::optional<Duration> timeout) {
    if (!timeout) return std::nullopt;
    return ::evergreen::internal::loop_now() + *timeout;
  }
  bool is_full() const { return maxsize_ > 0 && items_.size() >= maxsize_; }

  // put(): false if the queue stayed full (no wait, or the deadline passed).
  bool offer(T& item, bool block, std::optional<TimePoint> deadline, const char* what) {
    Waiter::DeferredWakes wakes;  // sent after `lock` is released
    std::unique_lock<std::mutex> lock(mutex_);
    if (closed_) throw QueueClosed();
    if (Waiter* consumer = getters_.front()) {  // the queue is empty
      static_cast<std::optional<T>*>(consumer->data)->emplace(std::move(item));
      ++unfinished_;
      consumer->notify(getters_, Waiter::Outcome::kServed, wakes);
      return true;
    }
    if (!is_full()) {
      items_.push_back(std::move(item));
      ++unfinished_;
      return true;
    }
    if (!block) return false;
    Waiter waiter;
    waiter.data = &item;
    if (!waiter.wait(lock, putters_, deadline, what)) return false;
    if (waiter.outcome() == Waiter::Outcome::kClosed) throw QueueClosed();
    return true;  // a get() moved our item into the queue and counted it
  }

  // get(): nullopt if the queue stayed empty (no wait, or the deadline
  // passed).
  std::optional<T> take(bool block, std::optional<TimePoint> deadline, const char* what) {
    Waiter::DeferredWakes wakes;  // sent after `lock` is released
    std::unique_lock<std::mutex> lock(mutex_);
    if (!items_.empty()) {
      std::optional<T> item(std::move(items_.front()));
      items_.pop_front();
      if (Waiter* producer = putters_.front()) {  // it was full
        items_.push_back(std::move(*static_cast<T*>(producer->data)));
        ++unfinished_;
        producer->notify(putters_, Waiter::Outcome::kServed, wakes);
      }
      return item;
    }
    if (closed_) throw QueueClosed();
    if (!block) return std::nullopt;
    Waiter waiter;
    // Where a put() hands us the item: inside the waiter's first cache line
    // when it fits, so the hand-off moves that one line (see
    // CrossThreadWaiter), else beside it.
    std::optional<T>* slot;
    [[maybe_unused]] std::conditional_t<kSlotInWaiter, char, std::optional<T>> slot_beside;
    if constexpr (kSlotInWaiter) {
      slot = ::new (waiter.inline_payload()) std::optional<T>();
    } else {
      slot = &slot_beside;
    }
    waiter.data = slot;
    waiter.spin_if_idle = true;  // the latency of a cross-loop exchange
    if (!waiter.wait(lock, getters_, deadline, what)) return std::nullopt;
    if (waiter.outcome() == Waiter::Outcome::kClosed) throw QueueClosed();
    return std::move(*slot);
  }

  // Whether a blocked get()'s slot fits in its waiter (and needs no
  // destructor, the waiter's storage being raw bytes).
  static constexpr bool kSlotInWaiter =
      sizeof(std::optional<T>) <= Waiter::kInlinePayloadSize &&
      alignof(std::optional<T>) <= 8 && std::is_trivially_destructible_v<std::optional<T>>;

  // What every put() and get() touch, on one cache line of its own (a
  // cross-thread hand-off moves it once): the mutex, the blocked consumers
  // and the closed flag.
  alignas(fiber_internal::kCacheLine) mutable std::mutex mutex_;
  Waiter::List getters_;  // waiter data: std::optional<T>* to fill
  bool closed_ = false;
  // The rest: items_ is only read while it stays empty (hand-offs go
  // straight to a blocked consumer), unfinished_ written by producers.
  alignas(fiber_internal::kCacheLine) std::deque<T> items_;
  const size_t maxsize_;
  size_t unfinished_ = 0;
  Waiter::List putters_;  // waiter data: T* to move into the queue
  Waiter::List joiners_;
};

}  // namespace evergreen

#endif  // EVERGREEN_SYNC_THREAD_SAFE_QUEUE_H_
