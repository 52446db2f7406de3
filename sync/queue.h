// evergreen/sync/queue.h
//
// Multi-producer, multi-consumer queues (Python's queue module): Queue (FIFO),
// LifoQueue (last in, first out) and PriorityQueue (lowest first), optionally
// bounded, with task_done()/join() to wait until every item is processed.
//
//   Queue<Job> jobs;
//   for (int i = 0; i < 10; ++i) {
//     spawn([&] {
//       for (;;) {
//         Job job = jobs.get();   // blocks this task while the queue is empty
//         run(job);
//         jobs.task_done();
//       }
//     });
//   }
//   for (Job& job : source()) jobs.put(std::move(job));
//   jobs.join();                  // blocks until every job is done
//
// Guarantees:
// - Blocked get() calls are served in the order they blocked, and so are
//   blocked put() calls. An item put while a consumer waits goes straight to
//   the longest-waiting consumer; a slot freed while a producer waits goes to
//   the longest-waiting producer, whose item enters the queue at once. So a
//   newcomer never overtakes a blocked task.
// - No item is lost or duplicated: a get() or put() that times out or is
//   killed while blocked leaves the queue having taken or given nothing; one
//   that was served in the same loop turn completes (the exception is raised
//   at the task's next suspension point).
// - close() (beyond the seed) ends a queue's life: later puts throw
//   QueueClosed, gets drain what is left and then throw QueueClosed, and
//   tasks blocked in get() or put() are woken with QueueClosed. Iterating a
//   queue takes items until it is closed and drained:
//     for (Job job : jobs) run(job);   // ends after jobs.close()
// - Non-throwing variants (beyond the seed): try_get(), get_for(duration),
//   try_put(item), put_for(item, duration) report "no item"/"no slot" with
//   std::nullopt/false instead of Empty/Full; they share get()/put()'s code
//   and still throw QueueClosed, and a kill or Timeout delivered to the task.
// - Items may be move-only. Non-blocking calls (put_nowait, get_nowait,
//   task_done, ...) also work in loop callbacks.
// - Single-loop objects: a queue belongs to the thread that first uses it; a
//   member called from another thread throws std::logic_error naming both
//   threads (builds without NDEBUG). Hand items over between threads with
//   EventLoop::call_from_thread.
#ifndef EVERGREEN_SYNC_QUEUE_H_
#define EVERGREEN_SYNC_QUEUE_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <utility>

#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/thread_affinity.h"
#include "evergreen/loop/internal/wait_queue.h"
#include "evergreen/sync/internal/queue_storage.h"
#include "evergreen/sync/internal/take_iterator.h"
#include "evergreen/sync/queue_closed.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen {

// Thrown by get() when no item is available (non-blocking, or timed out).
class Empty : public std::runtime_error {
 public:
  Empty() : std::runtime_error("evergreen: the queue is empty") {}
};

// Thrown by put() when no slot is free (non-blocking, or timed out).
class Full : public std::runtime_error {
 public:
  Full() : std::runtime_error("evergreen: the queue is full") {}
};

// The behaviour shared by Queue, LifoQueue and PriorityQueue; `Storage`
// decides the order items come out in.
template <class T, class Storage>
class BasicQueue {
 public:
  // A queue holding at most `maxsize` items; 0 means unbounded.
  explicit BasicQueue(size_t maxsize = 0, Storage storage = Storage())
      : items_(std::move(storage)), maxsize_(maxsize) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  // Items in the queue now (not counting those of blocked producers).
  size_t qsize() const {
    check_thread("qsize");
    return items_.size();
  }
  bool empty() const {
    check_thread("empty");
    return items_.size() == 0;
  }
  // Whether a put() would block now.
  bool full() const {
    check_thread("full");
    return is_full();
  }
  size_t maxsize() const { return maxsize_; }
  // Items put and not yet marked done with task_done().
  size_t unfinished_tasks() const {
    check_thread("unfinished_tasks");
    return unfinished_;
  }

  // BasicQueue::put()
  //
  // Adds `item` (or hands it to a waiting consumer). If the queue is full:
  // with `block` false throws Full at once (`timeout` ignored); otherwise
  // blocks until a get() frees a slot for it, or throws Full once `timeout`
  // passes. Throws QueueClosed if the queue is closed, before or while
  // blocked (the item is then not added). Raises a kill or Timeout delivered
  // while blocked (the item is then not added). Throws std::runtime_error if
  // it would block in a loop callback.
  void put(T item, bool block = true, std::optional<Duration> timeout = std::nullopt) {
    if (!give(item, block, timeout, block ? "put" : "put_nowait")) throw Full();
  }

  // Any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  void put(T item, bool block, std::chrono::duration<Rep, Period> timeout) {
    put(std::move(item), block, std::optional<Duration>(to_duration(timeout)));
  }

  // put(item, false).
  void put_nowait(T item) { put(std::move(item), false); }

  // BasicQueue::get()
  //
  // Removes and returns the next item. If the queue is empty: with `block`
  // false throws Empty at once (`timeout` ignored); otherwise blocks until a
  // put() hands it an item, or throws Empty once `timeout` passes. Once the
  // queue is closed, returns the items left, then throws QueueClosed (a get()
  // blocked when close() is called throws it at once: the queue was empty).
  // Raises a kill or Timeout delivered while blocked (no item is taken).
  // Throws std::runtime_error if it would block in a loop callback.
  T get(bool block = true, std::optional<Duration> timeout = std::nullopt) {
    std::optional<T> item = take_or_throw(block, timeout, block ? "get" : "get_nowait");
    if (!item) throw Empty();
    return std::move(*item);
  }

  // Any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  T get(bool block, std::chrono::duration<Rep, Period> timeout) {
    return get(block, std::optional<Duration>(to_duration(timeout)));
  }

  // get(false).
  T get_nowait() { return get(false); }

  // BasicQueue::close()
  //
  // Closes the queue: later put() calls throw QueueClosed, and get() calls
  // return the items left, then throw QueueClosed. Tasks blocked in put()
  // get QueueClosed (their items are not added); tasks blocked in get() (so
  // the queue is empty) get QueueClosed. Closing again does nothing.
  // task_done()/join() are unaffected. Never blocks.
  void close() {
    check_thread("close");
    closed_ = true;
    getters_.notify_all();  // their slots stay empty: closed
    putters_.notify_all();  // their offers stay untaken: closed
  }

  bool closed() const {
    check_thread("closed");
    return closed_;
  }

  // Iteration: begin() takes the first item with get(); the iterator equals
  // end() once the queue is closed and drained. Dereferencing yields the item
  // as an rvalue (so `for (T item : queue)` works for move-only T);
  // dereference once per step. Each step blocks like get(), and raises what
  // get() raises except QueueClosed. It does not call task_done().
  using Iterator = internal::TakeIterator<BasicQueue, T>;
  Iterator begin() { return Iterator(this); }
  std::default_sentinel_t end() { return {}; }

  // BasicQueue::try_get()
  //
  // The next item, or std::nullopt at once if the queue is empty. Never
  // throws Empty; throws QueueClosed once a closed queue is drained. Never
  // blocks.
  std::optional<T> try_get() { return take_or_throw(false, std::nullopt, "try_get"); }

  // BasicQueue::get_for()
  //
  // The next item, blocking up to `timeout` (any std::chrono::duration,
  // rounded up to nanoseconds) while the queue is empty; std::nullopt if none
  // came in time. Never throws Empty; throws QueueClosed once a closed queue
  // is drained (also when close() wakes it). Raises a kill or Timeout
  // delivered while blocked (no item is taken). Throws std::runtime_error if
  // it would block in a loop callback.
  template <class Rep, class Period>
  std::optional<T> get_for(std::chrono::duration<Rep, Period> timeout) {
    return take_or_throw(true, to_duration(timeout), "get_for");
  }

  // BasicQueue::try_put()
  //
  // Adds `item` if a slot is free (or hands it to a waiting consumer) and
  // returns true; returns false at once if the queue is full. Never throws
  // Full; throws QueueClosed on a closed queue. Never blocks.
  //
  // Takes an rvalue reference, not a value, and moves from `item` only when
  // it returns true: on false (or QueueClosed) the caller still owns the
  // item, so a move-only item (a unique_ptr, a connection) is never lost and
  // can be retried or handled. The const T& overload copies.
  bool try_put(T&& item) { return give(item, false, std::nullopt, "try_put"); }
  bool try_put(const T& item) {
    T copy(item);
    return try_put(std::move(copy));
  }

  // BasicQueue::put_for()
  //
  // Adds `item`, blocking up to `timeout` (any std::chrono::duration, rounded
  // up to nanoseconds) while the queue is full; returns whether it was added.
  // Never throws Full; throws QueueClosed if the queue is closed before or
  // while blocked. Raises a kill or Timeout delivered while blocked. Moves
  // from `item` only when it returns true (see try_put()): after false, an
  // exception, or QueueClosed, the caller still owns it. Throws
  // std::runtime_error if it would block in a loop callback.
  template <class Rep, class Period>
  bool put_for(T&& item, std::chrono::duration<Rep, Period> timeout) {
    return give(item, true, to_duration(timeout), "put_for");
  }
  template <class Rep, class Period>
  bool put_for(const T& item, std::chrono::duration<Rep, Period> timeout) {
    T copy(item);
    return put_for(std::move(copy), timeout);
  }

  // BasicQueue::task_done()
  //
  // Marks one item taken with get() as processed; when every item put has
  // been, wakes the tasks blocked in join(). Throws std::invalid_argument if
  // called more times than items were put. Never blocks.
  void task_done() {
    check_thread("task_done");
    if (unfinished_ == 0) {
      throw std::invalid_argument(
          "evergreen: Queue::task_done() called more times than there were items put");
    }
    if (--unfinished_ == 0) joiners_.notify_all();
  }

  // BasicQueue::join()
  //
  // Blocks until every item put has been marked done with task_done(), or
  // until `timeout` passes; returns whether everything is done. Raises a kill
  // or Timeout delivered while blocked. Throws std::runtime_error if it would
  // block in a loop callback.
  // Any std::chrono::duration, rounded up.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return join(std::optional<Duration>(to_duration(timeout)));
  }
  bool join(std::optional<Duration> timeout = std::nullopt) {
    check_thread("join");
    std::optional<TimePoint> deadline;
    if (timeout) deadline = ::evergreen::internal::loop_now() + *timeout;
    internal::WaitLabel label("Queue::join");
    // Woken when the count reached zero; put() may have raised it again
    // before this task resumed, hence the loop.
    while (unfinished_ > 0) {
      std::optional<Duration> remaining;
      if (deadline) remaining = *deadline - ::evergreen::internal::loop_now();
      if (!joiners_.wait(nullptr, remaining)) return unfinished_ == 0;
    }
    return true;
  }

 private:
  // A blocked producer's waiter data.
  struct Offer {
    T* item;
    bool taken = false;  // a get() moved *item into the queue and counted it
  };

  // The path every put variant takes: adds `item`, moving from it only on
  // success. Returns false when no slot freed up (not blocking, or
  // `timeout` passed); throws QueueClosed on a closed queue.
  bool give(T& item, bool block, std::optional<Duration> timeout, const char* member) {
    check_thread(member);
    if (closed_) throw QueueClosed();
    if (internal::WaitQueue::Waiter* consumer = getters_.front()) {  // the queue is empty
      static_cast<std::optional<T>*>(consumer->data)->emplace(std::move(item));
      ++unfinished_;
      getters_.notify(consumer);
      return true;
    }
    if (!is_full()) {
      items_.push(std::move(item));
      ++unfinished_;
      return true;
    }
    if (!block) return false;
    Offer offer{&item};
    if (!putters_.wait("Queue::put", timeout, &offer)) return false;
    if (!offer.taken) throw QueueClosed();  // close() woke us
    return true;
  }

  // What take() found.
  enum class Took { kItem, kNothing, kClosed };

  // The path every get variant takes: fills `slot` with the next item
  // (kItem), or reports that none came (kNothing: not blocking, or `timeout`
  // passed) or that the queue is closed and drained (kClosed).
  Took take(std::optional<T>& slot, bool block, std::optional<Duration> timeout,
            const char* member) {
    check_thread(member);
    if (items_.size() > 0) {
      slot.emplace(items_.pop());
      if (internal::WaitQueue::Waiter* producer = putters_.front()) {  // was full
        auto* offer = static_cast<Offer*>(producer->data);
        items_.push(std::move(*offer->item));
        offer->taken = true;
        ++unfinished_;
        putters_.notify(producer);
      }
      return Took::kItem;
    }
    if (closed_) return Took::kClosed;
    if (!block) return Took::kNothing;
    if (!getters_.wait("Queue::get", timeout, &slot)) return Took::kNothing;
    // A put() filled the slot, or close() woke us with it empty.
    return slot ? Took::kItem : Took::kClosed;
  }

  // take() for the get variants: nullopt when nothing came, QueueClosed once
  // a closed queue is drained.
  std::optional<T> take_or_throw(bool block, std::optional<Duration> timeout, const char* member) {
    std::optional<T> slot;
    if (take(slot, block, timeout, member) == Took::kClosed) throw QueueClosed();
    return slot;
  }

  // The iterator's step: blocks like get(); nullopt at the end.
  friend Iterator;
  std::optional<T> take_for_iteration() {
    std::optional<T> slot;
    take(slot, true, std::nullopt, "iteration");
    return slot;
  }

  bool is_full() const { return maxsize_ > 0 && items_.size() >= maxsize_; }
  // Throws std::logic_error off the owning thread (see ThreadAffinity).
  void check_thread(const char* member) const {
    affinity_.check(this, Storage::kQueueName, member);
  }

  Storage items_;
  const size_t maxsize_;
  size_t unfinished_ = 0;
  bool closed_ = false;
  internal::WaitQueue getters_;  // waiter data: std::optional<T>* to fill
  internal::WaitQueue putters_;  // waiter data: Offer*
  internal::WaitQueue joiners_;
  internal::ThreadAffinity affinity_;
};

// Queue: first in, first out.
template <class T>
class Queue : public BasicQueue<T, internal::FifoStorage<T>> {
 public:
  explicit Queue(size_t maxsize = 0) : BasicQueue<T, internal::FifoStorage<T>>(maxsize) {}
};

// LifoQueue: the most recently added item comes out first.
template <class T>
class LifoQueue : public BasicQueue<T, internal::LifoStorage<T>> {
 public:
  explicit LifoQueue(size_t maxsize = 0) : BasicQueue<T, internal::LifoStorage<T>>(maxsize) {}
};

// PriorityQueue: the lowest item by `Compare` (std::less: the smallest) comes
// out first; equal items in no particular order. A typical item is a
// std::pair<int priority, Data>.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public BasicQueue<T, internal::HeapStorage<T, Compare>> {
 public:
  explicit PriorityQueue(size_t maxsize = 0, Compare compare = Compare())
      : BasicQueue<T, internal::HeapStorage<T, Compare>>(
            maxsize, internal::HeapStorage<T, Compare>(std::move(compare))) {}
};

}  // namespace evergreen

#endif  // EVERGREEN_SYNC_QUEUE_H_
