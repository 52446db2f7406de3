#include "evergreen/loop/internal/thread_affinity.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace evergreen::internal {
namespace {

// A thread's name as the kernel keeps it (pthread_setname_np, or the
// program's name), or a note that it has ended. Read only to build a message.
std::string thread_label(int tid) {
  std::string label = "thread " + std::to_string(tid);
  std::ifstream comm("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  if (comm && std::getline(comm, name) && !name.empty()) {
    label += " (\"" + name + "\")";
  } else {
    label += " (which has exited)";
  }
  return label;
}

}  // namespace

constinit thread_local int cached_thread_id = 0;

int cache_this_thread_id() {
  cached_thread_id = static_cast<int>(gettid());
  return cached_thread_id;
}

std::string wrong_thread_message(const void* object, const char* type, const char* member,
                                 int owner, int caller) {
  char address[32];
  std::snprintf(address, sizeof address, "%p", object);
  return std::string("evergreen: ") + type + "::" + member + "() called from " +
         thread_label(caller) + ", but evergreen::" + type + " " + address +
         " belongs to the loop of " + thread_label(owner) +
         ": a single-loop object may be used only from its loop's thread (hand work to that "
         "loop with EventLoop::call_from_thread)";
}

void ThreadAffinity::bind_or_throw(int self, const void* object, const char* type,
                                   const char* member) const {
  int owner = 0;
  if (owner_.compare_exchange_strong(owner, self, std::memory_order_relaxed)) return;
  if (owner == self) return;
  throw std::logic_error(wrong_thread_message(object, type, member, owner, self));
}

}  // namespace evergreen::internal
