// How //patch reaches the functions it interposes: the next definition after
// its own, found with dlsym(RTLD_NEXT, name) on first use and cached. That is
// libc's, or a sanitizer's interceptor that forwards to libc's.
//
// Bootstrap: an interposed function can run before main() (a static
// constructor of another library may read or close a file), so nothing here
// uses function-local statics, locks or the heap; a racing first lookup just
// stores the same pointer twice. dlsym may allocate (calloc for its error
// state), which is harmless because //patch does not interpose the allocator.
#ifndef EVERGREEN_PATCH_INTERNAL_SYMBOLS_H_
#define EVERGREEN_PATCH_INTERNAL_SYMBOLS_H_

#include <atomic>

namespace evergreen::patch_internal {

// The next definition of `name`, or null. Preserves errno.
void* find_next_symbol(const char* name);

// find_next_symbol() that aborts with a message if there is none (libc always
// defines the functions //patch interposes, so this means a broken process).
void* require_next_symbol(const char* name);

// One interposed function's original, resolved once.
template <class Function>
class NextSymbol {
 public:
  explicit constexpr NextSymbol(const char* name) : name_(name) {}

  Function get() {
    void* found = address_.load(std::memory_order_acquire);
    if (found == nullptr) {
      found = require_next_symbol(name_);
      address_.store(found, std::memory_order_release);
    }
    return reinterpret_cast<Function>(found);
  }

 private:
  const char* name_;
  std::atomic<void*> address_{nullptr};
};

}  // namespace evergreen::patch_internal

#endif  // EVERGREEN_PATCH_INTERNAL_SYMBOLS_H_
