// IntrusiveList<T, Tag>: a doubly linked list of objects that carry their own
// links (they derive from IntrusiveListNode<T, Tag>), so linking and
// unlinking never allocate and an object can leave the list in O(1) from
// wherever it is. An object may sit in several lists at once, one per Tag.
//
// The list does not own its objects. An object must be unlinked before it is
// destroyed; is_linked() tells whether it still is. Single-threaded.
#ifndef EVERGREEN_LOOP_INTERNAL_INTRUSIVE_LIST_H_
#define EVERGREEN_LOOP_INTERNAL_INTRUSIVE_LIST_H_

namespace evergreen::internal {

template <class T, class Tag>
class IntrusiveList;

template <class T, class Tag = void>
class IntrusiveListNode {
 public:
  IntrusiveListNode() = default;
  // Links are never copied: a copy is a new, unlinked object.
  IntrusiveListNode(const IntrusiveListNode&) {}
  IntrusiveListNode& operator=(const IntrusiveListNode&) { return *this; }

  bool is_linked() const { return linked_; }

 private:
  friend class IntrusiveList<T, Tag>;
  T* previous_ = nullptr;
  T* next_ = nullptr;
  bool linked_ = false;
};

template <class T, class Tag = void>
class IntrusiveList {
  using Node = IntrusiveListNode<T, Tag>;

 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_ == nullptr; }
  T* front() const { return head_; }
  T* back() const { return tail_; }
  // The element after `item` (which must be linked here), or null.
  static T* next(T* item) { return node(item)->next_; }

  void push_back(T* item) {
    Node* links = node(item);
    links->previous_ = tail_;
    links->next_ = nullptr;
    links->linked_ = true;
    (tail_ == nullptr ? head_ : node(tail_)->next_) = item;
    tail_ = item;
  }

  // Unlinks `item`, which must be linked in this list.
  void remove(T* item) {
    Node* links = node(item);
    (links->previous_ == nullptr ? head_ : node(links->previous_)->next_) = links->next_;
    (links->next_ == nullptr ? tail_ : node(links->next_)->previous_) = links->previous_;
    links->previous_ = links->next_ = nullptr;
    links->linked_ = false;
  }

  // Unlinks and returns the first element, or null if the list is empty.
  T* pop_front() {
    T* item = head_;
    if (item != nullptr) remove(item);
    return item;
  }

 private:
  static Node* node(T* item) { return static_cast<Node*>(item); }

  T* head_ = nullptr;
  T* tail_ = nullptr;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_INTRUSIVE_LIST_H_
