// evergreen/loop/local.h
//
// TaskLocal<T>: like thread_local, one value per task. Each task (and, once,
// the code running outside tasks on each thread) gets its own T,
// value-initialised on its first get(); a task's values are destroyed when the
// task ends, newest first.
//
//   TaskLocal<std::string> request_id;
//   spawn([&] { request_id.get() = "a"; ... });
#ifndef EVERGREEN_LOOP_LOCAL_H_
#define EVERGREEN_LOOP_LOCAL_H_

#include <cstdint>
#include <memory>

#include "evergreen/loop/internal/local_storage.h"

namespace evergreen {

template <class T>
class TaskLocal {
 public:
  TaskLocal() : key_(internal::new_local_key()) {}
  TaskLocal(const TaskLocal&) = delete;
  TaskLocal& operator=(const TaskLocal&) = delete;

  // The calling task's value, created on first use.
  T& get() {
    internal::LocalStorage& storage = internal::current_local_storage();
    if (auto* found = storage.find(key_)) return static_cast<Holder*>(found)->value;
    return static_cast<Holder*>(storage.insert(key_, std::make_unique<Holder>()))->value;
  }
  T* operator->() { return &get(); }
  T& operator*() { return get(); }

 private:
  struct Holder final : internal::LocalStorage::Value {
    T value{};
  };
  const uint64_t key_;
};

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_LOCAL_H_
