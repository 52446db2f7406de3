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
#include <optional>
#include <stdexcept>
#include <utility>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/thread_affinity.h"
#include "evergreen/loop/internal/wait_queue.h"
#include "evergreen/sync/internal/queue_storage.h"
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
  // passes. Raises a kill or Timeout delivered while blocked (the item is then
  // not added). Throws std::runtime_error if it would block in a loop callback.
  void put(T item, bool block = true, std::optional<Duration> timeout = std::nullopt) {
    check_thread(block ? "put" : "put_nowait");
    if (internal::WaitQueue::Waiter* consumer = getters_.front()) {  // the queue is empty
      static_cast<std::optional<T>*>(consumer->data)->emplace(std::move(item));
      ++unfinished_;
      getters_.notify(consumer);
      return;
    }
    if (!is_full()) {
      items_.push(std::move(item));
      ++unfinished_;
      return;
    }
    if (!block) throw Full();
    // True: a get() moved our item into the queue and counted it.
    internal::WaitLabel label("Queue::put");
    if (!putters_.wait(timeout, &item)) throw Full();
  }

  // put(item, false).
  void put_nowait(T item) { put(std::move(item), false); }

  // BasicQueue::get()
  //
  // Removes and returns the next item. If the queue is empty: with `block`
  // false throws Empty at once (`timeout` ignored); otherwise blocks until a
  // put() hands it an item, or throws Empty once `timeout` passes. Raises a
  // kill or Timeout delivered while blocked (no item is taken). Throws
  // std::runtime_error if it would block in a loop callback.
  T get(bool block = true, std::optional<Duration> timeout = std::nullopt) {
    check_thread(block ? "get" : "get_nowait");
    if (items_.size() > 0) {
      T item = items_.pop();
      if (internal::WaitQueue::Waiter* producer = putters_.front()) {  // was full
        items_.push(std::move(*static_cast<T*>(producer->data)));
        ++unfinished_;
        putters_.notify(producer);
      }
      return item;
    }
    if (!block) throw Empty();
    std::optional<T> slot;
    internal::WaitLabel label("Queue::get");
    // True: a put() filled the slot.
    if (!getters_.wait(timeout, &slot)) throw Empty();
    return std::move(*slot);
  }

  // get(false).
  T get_nowait() { return get(false); }

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
  bool join(std::optional<Duration> timeout = std::nullopt) {
    check_thread("join");
    std::optional<TimePoint> deadline;
    if (timeout) deadline = std::chrono::steady_clock::now() + *timeout;
    internal::WaitLabel label("Queue::join");
    // Woken when the count reached zero; put() may have raised it again
    // before this task resumed, hence the loop.
    while (unfinished_ > 0) {
      std::optional<Duration> remaining;
      if (deadline) remaining = *deadline - std::chrono::steady_clock::now();
      if (!joiners_.wait(remaining)) return unfinished_ == 0;
    }
    return true;
  }

 private:
  bool is_full() const { return maxsize_ > 0 && items_.size() >= maxsize_; }
  // Throws std::logic_error off the owning thread (see ThreadAffinity).
  void check_thread(const char* member) const {
    affinity_.check(this, Storage::kQueueName, member);
  }

  Storage items_;
  const size_t maxsize_;
  size_t unfinished_ = 0;
  internal::WaitQueue getters_;  // waiter data: std::optional<T>* to fill
  internal::WaitQueue putters_;  // waiter data: T* to move into the queue
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
