// Intrusive FIFO of things the loop runs next: callbacks and tasks to resume.
// Pushing and popping never allocate; a node is in at most one queue at a time.
#ifndef EVERGREEN_LOOP_INTERNAL_READY_QUEUE_H_
#define EVERGREEN_LOOP_INTERNAL_READY_QUEUE_H_

#include <cstddef>

namespace evergreen::internal {

struct ReadyNode {
  explicit ReadyNode(bool is_context = false) : is_context(is_context) {}
  virtual ~ReadyNode() = default;
  // Runs on the loop fiber when the node reaches the front of the queue.
  virtual void run_ready() = 0;
  // The loop is being destroyed and takes the node off the queue unrun.
  virtual void drop_unrun() = 0;
  ReadyNode* next_ready = nullptr;
  // A BlockingContext to resume, rather than a callback: a parking task may
  // hand the thread to it directly.
  const bool is_context;
};

class ReadyQueue {
 public:
  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }

  void push(ReadyNode* node) {
    node->next_ready = nullptr;
    if (tail_ == nullptr) {
      head_ = node;
    } else {
      tail_->next_ready = node;
    }
    tail_ = node;
    ++size_;
  }

  ReadyNode* front() const { return head_; }

  ReadyNode* pop() {
    ReadyNode* node = head_;
    if (node == nullptr) return nullptr;
    head_ = node->next_ready;
    if (head_ == nullptr) tail_ = nullptr;
    node->next_ready = nullptr;
    --size_;
    return node;
  }

 private:
  ReadyNode* head_ = nullptr;
  ReadyNode* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_READY_QUEUE_H_
