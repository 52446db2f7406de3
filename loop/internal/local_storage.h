// Per-task values for TaskLocal<T>, destroyed in reverse order of creation
// when the task ends (or, for code outside tasks, when the thread exits).
#ifndef EVERGREEN_LOOP_INTERNAL_LOCAL_STORAGE_H_
#define EVERGREEN_LOOP_INTERNAL_LOCAL_STORAGE_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace evergreen::internal {

class LocalStorage {
 public:
  struct Value {
    virtual ~Value() = default;
  };

  LocalStorage() = default;
  LocalStorage(const LocalStorage&) = delete;
  LocalStorage& operator=(const LocalStorage&) = delete;
  ~LocalStorage() { clear(); }

  Value* find(uint64_t key) const {
    for (const auto& [k, value] : values_) {
      if (k == key) return value.get();
    }
    return nullptr;
  }

  Value* insert(uint64_t key, std::unique_ptr<Value> value) {
    values_.emplace_back(key, std::move(value));
    return values_.back().second.get();
  }

  // Destroys the values newest first; a destructor that creates another value
  // sees it destroyed too.
  void clear() {
    while (!values_.empty()) {
      std::unique_ptr<Value> last = std::move(values_.back().second);
      values_.pop_back();
      last.reset();
    }
  }

 private:
  std::vector<std::pair<uint64_t, std::unique_ptr<Value>>> values_;
};

// The storage of the running task, or the thread's storage outside tasks.
LocalStorage& current_local_storage();

// A process-unique key for a new TaskLocal (keys are never reused, so a new
// TaskLocal at the address of a destroyed one never sees its values).
uint64_t new_local_key();

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_LOCAL_STORAGE_H_
