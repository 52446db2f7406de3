// Which modules patch() has switched on, read by every interposed call.
// Process-wide atomics, constant-initialised, so a call made before main()
// (or before patch()) sees "not patched" and goes straight to libc.
#ifndef EVERGREEN_PATCH_INTERNAL_MODULES_H_
#define EVERGREEN_PATCH_INTERNAL_MODULES_H_

#include <atomic>
#include <cstdint>

namespace evergreen::patch_internal {

enum class Module : uint32_t {
  kSocket = 1u << 0,
  kSelect = 1u << 1,
  kTime = 1u << 2,
  kDns = 1u << 3,
};

inline constinit std::atomic<uint32_t> patched_modules{0};

inline bool patched(Module module) {
  return (patched_modules.load(std::memory_order_acquire) & static_cast<uint32_t>(module)) != 0;
}

// Defined by the interposers (//patch) and nowhere else: a weak reference
// lets patch() in a program linked with //patch:cooperative alone (as
// //:evergreen is) find it null and say which target is missing.
[[gnu::weak]] extern const bool interposers_linked;

}  // namespace evergreen::patch_internal

#endif  // EVERGREEN_PATCH_INTERNAL_MODULES_H_
