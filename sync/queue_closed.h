// evergreen/sync/queue_closed.h
//
// QueueClosed: what a closed queue throws. In its own header because every
// kind of queue shares it (Queue, LifoQueue, PriorityQueue in queue.h, and a
// thread-safe queue), and none of them should have to include another.
#ifndef EVERGREEN_SYNC_QUEUE_CLOSED_H_
#define EVERGREEN_SYNC_QUEUE_CLOSED_H_

#include <stdexcept>

namespace evergreen {

// Thrown by put() (and its variants) on a closed queue, and by get() (and
// its variants) once a closed queue has no items left.
class QueueClosed : public std::runtime_error {
 public:
  QueueClosed() : std::runtime_error("evergreen: the queue is closed") {}
};

}  // namespace evergreen

#endif  // EVERGREEN_SYNC_QUEUE_CLOSED_H_
