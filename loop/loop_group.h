// evergreen/loop/loop_group.h
//
// LoopGroup: a thread-per-core runtime. A group starts n OS threads, each
// owning an EventLoop that runs until stop(). Tasks never move between
// threads: a task runs on the loop that started it, and work crosses loops
// only through post()/post_each() (and what is built on them: ThreadSafeQueue,
// futures::submit_to, futures::LoopGroupExecutor).
//
//   LoopGroup group;                       // one loop per allowed CPU
//   group.post_each([](size_t i) { serve(i); });
//   ...
//   group.stop();                          // kills what still runs
//   group.join();                          // (the destructor does both)
//
// Guarantees:
// - Thread i is named "<name>-<i>" (the name is shortened so the whole fits
//   the kernel's 15 characters) and, with pin_threads, pinned to the i-th CPU
//   the process may run on (sched_getaffinity), wrapping around.
// - post() and post_each() are thread-safe: any thread, loop or task may call
//   them. Functions posted from one thread to one loop start in the order they
//   were posted. An exception escaping a posted function is reported as for
//   any task.
// - stop() is thread-safe and idempotent: every loop kills its remaining tasks
//   (TaskExit, so their destructors run; a posted function that had not begun
//   never runs) and its thread ends. join() waits for that.
// - Misuse: post() to an index >= size() throws std::out_of_range; post()
//   after stop() throws std::runtime_error; join() from one of the group's
//   own threads throws std::logic_error, since a thread cannot wait for
//   itself (so destroying the group there terminates the process); a loop that cannot be created
//   (LoopOptions asks for an unavailable backend) makes the constructor throw what EventLoop threw.
#ifndef EVERGREEN_LOOP_LOOP_GROUP_H_
#define EVERGREEN_LOOP_LOOP_GROUP_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "evergreen/loop/loop_options.h"

namespace evergreen {

namespace internal {
class CrossThreadQueue;
}
struct LoopGroupStartup;

struct LoopGroupOptions {
  // Pin thread i to the i-th CPU the process may run on.
  bool pin_threads = false;
  // Threads are named "<name>-<i>".
  std::string name = "evergreen";
  // How each loop of the group is built.
  LoopOptions loop = {};
};

class LoopGroup {
 public:
  // Starts `threads` loops (0: one per CPU the process may run on) and returns
  // once every loop exists, so post() can reach each of them at once.
  explicit LoopGroup(size_t threads = 0) : LoopGroup(threads, LoopGroupOptions{}) {}
  LoopGroup(size_t threads, LoopGroupOptions options);
  // stop() then join(). Destroy a group from outside it: on one of its own
  // threads join() throws, and the process terminates.
  ~LoopGroup();
  LoopGroup(const LoopGroup&) = delete;
  LoopGroup& operator=(const LoopGroup&) = delete;

  size_t size() const { return loops_.size(); }

  // LoopGroup::post()
  //
  // Runs `fn` in a new task on loop `i`. Thread-safe.
  void post(size_t i, absl::AnyInvocable<void()> fn);

  // LoopGroup::post_each()
  //
  // Runs a copy of `fn` as fn(i) in a new task on every loop i.
  void post_each(std::function<void(size_t)> fn);

  // LoopGroup::stop()
  //
  // Makes every loop kill its remaining tasks and end. Thread-safe,
  // idempotent; does not wait (join() does).
  void stop();

  // LoopGroup::join()
  //
  // Waits until every thread of the group has ended (after stop(), from any
  // thread). Calling it again returns at once.
  void join();

  // LoopGroup::current() / current_index()
  //
  // The group whose thread runs the caller (null elsewhere), and that thread's
  // index (std::logic_error on a thread of no group).
  static LoopGroup* current();
  static size_t current_index();

 private:
  struct Loop {
    std::thread thread;
    // Set by the thread once its loop exists; kept after the loop is gone
    // (a closed queue refuses further callbacks rather than touching freed
    // memory).
    std::shared_ptr<internal::CrossThreadQueue> queue;
  };
  // Thread `index`'s body; `cpu` < 0: not pinned.
  void run_thread(size_t index, int cpu, LoopGroupStartup& startup);
  // Pushes `callback` to loop `i`'s thread; with mutex_ held.
  void send(size_t i, absl::AnyInvocable<void()> callback);

  const LoopGroupOptions options_;
  std::vector<Loop> loops_;
  std::mutex mutex_;  // guards stopped_ and the sends (so none follows stop)
  bool stopped_ = false;
  std::mutex join_mutex_;  // one joiner at a time
};

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_LOOP_GROUP_H_
