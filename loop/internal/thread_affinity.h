// ThreadAffinity: catches a single-loop object used from a thread other than
// its loop's (API.md, Conventions), instead of letting it become a data race
// that only ThreadSanitizer would see.
//
// Every primitive, stream, server and executor holds one and calls check() at
// the top of each public member:
//
//   void Event::set() {
//     affinity_.check(this, "Event", "set");
//     ...
//   }
//
// Binding: an object belongs to the thread that first uses it (the first
// check()), not to the one that constructed it, so an object may be built on
// one thread and handed, before any use, to the loop of another (a member of a
// server set up by main() and run by a LoopGroup thread). After that, a call
// from any other thread throws std::logic_error naming the object (type and
// address), the member, and both threads (kernel thread ids, as top and gdb
// show them, and their names). Objects whose loop is fixed when they are
// created (executors) bind at once with bind_to_this_thread().
//
// Cost: the calling thread's id is cached in a thread_local, and the owner is
// a relaxed atomic, so check() is a TLS load, a plain load and a predicted
// branch. Relaxed is enough: an object is shared with its loop's thread
// before use (that hand-off orders the binding store), and a racing caller on
// another thread only needs to see *some* owner that differs from itself,
// which a compare-and-swap from zero guarantees; TSan sees atomics, so the
// check itself is never reported as a race.
//
// In builds with NDEBUG defined (--config=opt) check() compiles to nothing;
// the member stays, so an object's layout does not depend on NDEBUG.
#ifndef EVERGREEN_LOOP_INTERNAL_THREAD_AFFINITY_H_
#define EVERGREEN_LOOP_INTERNAL_THREAD_AFFINITY_H_

// A target of its own that does not include event_loop.h: it says it too.
#if __cplusplus < 202002L
#error "evergreen needs C++20: compile with -std=c++20 (Bazel: --cxxopt=-std=c++20 in .bazelrc)"
#endif

#include <atomic>
#include <typeinfo>

namespace evergreen::internal {

// The calling thread's kernel id, cached per thread (0 until first asked).
// constinit: statically initialised, so reading it needs no TLS wrapper call.
extern constinit thread_local int cached_thread_id;
// Fills cached_thread_id with gettid() and returns it.
int cache_this_thread_id();

// The calling thread's kernel id (gettid()). Never 0.
inline int this_thread_id() {
  const int id = cached_thread_id;
  return id != 0 ? id : cache_this_thread_id();
}

class ThreadAffinity {
 public:
  ThreadAffinity() = default;
  ThreadAffinity(const ThreadAffinity&) = delete;
  ThreadAffinity& operator=(const ThreadAffinity&) = delete;

  // ThreadAffinity::check()
  //
  // Binds the object to the calling thread if it is not bound yet; otherwise
  // throws std::logic_error unless the calling thread is the bound one.
  // `object` and `type` ("Queue") identify the object, `member` ("put_nowait")
  // the call. Does nothing when NDEBUG is defined.
  void check(const void* object, const char* type, const char* member) const {
#ifndef NDEBUG
    const int self = this_thread_id();
    if (owner_.load(std::memory_order_relaxed) == self) [[likely]] {
      return;
    }
    bind_or_throw(self, object, type, member);
#endif
  }

  // ThreadAffinity::check_dynamic()
  //
  // check() for a class hierarchy (streams, servers): the message names the
  // object's dynamic type, which is looked up only when the check fails.
  template <class T>
  void check_dynamic(const T* object, const char* member) const {
#ifndef NDEBUG
    const int self = this_thread_id();
    if (owner_.load(std::memory_order_relaxed) == self) [[likely]] {
      return;
    }
    bind_or_throw(self, object, typeid(*object), member);
#endif
  }

  // Binds to the calling thread now, whatever happened before. For objects
  // tied to a loop from birth (executors).
  void bind_to_this_thread() { owner_.store(this_thread_id(), std::memory_order_relaxed); }

  // The bound thread's id, or 0 if no check() ran yet.
  int owner() const { return owner_.load(std::memory_order_relaxed); }

 private:
  // The slow path: first use, or a call from the wrong thread.
  void bind_or_throw(int self, const void* object, const char* type, const char* member) const;
  void bind_or_throw(int self, const void* object, const std::type_info& type,
                     const char* member) const;
  // Binds an unbound object to `self`; returns whether `self` owns it now.
  bool try_bind(int self) const;

  mutable std::atomic<int> owner_{0};
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_THREAD_AFFINITY_H_
