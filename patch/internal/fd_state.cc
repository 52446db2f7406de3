#include "evergreen/patch/internal/fd_state.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <new>

#include "evergreen/patch/patch.h"

namespace evergreen::patch_internal {
namespace {

// The state word: the kind in the low bits, then flags.
constexpr uint32_t kKindMask = 0x3;
constexpr uint32_t kUserNonblocking = 0x4;
constexpr uint32_t kSocket = 0x8;
constexpr uint32_t kRegularFile = 0x10;  // with kPlain: fstat said S_ISREG

struct Entry {
  std::atomic<uint32_t> state{0};
  std::atomic<int64_t> timeout_ns[2] = {0, 0};  // indexed by Direction
};

// Two levels: 4096 chunks of 1024 entries cover fds below 4M, more than any
// RLIMIT_NOFILE in practice; a larger fd is treated as plain (left to libc).
constexpr int kChunkBits = 10;
constexpr int kChunkSize = 1 << kChunkBits;
constexpr int kChunkCount = 4096;
constinit std::atomic<Entry*> chunks[kChunkCount] = {};

FdInfo decode(uint32_t state) {
  return FdInfo{static_cast<FdKind>(state & kKindMask), (state & kUserNonblocking) != 0,
                (state & kSocket) != 0, (state & kRegularFile) != 0};
}

uint32_t encode(FdKind kind, bool user_nonblocking, bool socket) {
  return static_cast<uint32_t>(kind) | (user_nonblocking ? kUserNonblocking : 0) |
         (socket ? kSocket : 0);
}

// The entry for `fd`, allocating its chunk if `create`; null if out of range
// (or out of memory).
Entry* find(int fd, bool create) {
  if (fd < 0 || fd >= kChunkSize * kChunkCount) return nullptr;
  std::atomic<Entry*>& slot = chunks[fd >> kChunkBits];
  Entry* chunk = slot.load(std::memory_order_acquire);
  if (chunk == nullptr) {
    if (!create) return nullptr;
    // mmap rather than new: callable from a signal handler, and the table
    // lives as long as the process (nothing to free, nothing to leak-check).
    int saved_errno = errno;
    void* memory = mmap(nullptr, sizeof(Entry) * kChunkSize, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = saved_errno;
    if (memory == MAP_FAILED) return nullptr;
    Entry* created = static_cast<Entry*>(memory);
    for (int i = 0; i < kChunkSize; ++i) new (&created[i]) Entry();
    if (slot.compare_exchange_strong(chunk, created, std::memory_order_acq_rel)) {
      chunk = created;
    } else {
      munmap(memory, sizeof(Entry) * kChunkSize);  // another thread won; `chunk` is theirs
      errno = saved_errno;
    }
  }
  return &chunk[fd & (kChunkSize - 1)];
}

int64_t socket_timeout_ns(int fd, int option) {
  timeval value{};
  socklen_t length = sizeof value;
  if (getsockopt(fd, SOL_SOCKET, option, &value, &length) != 0) return 0;
  return (static_cast<int64_t>(value.tv_sec) * 1'000'000 + value.tv_usec) * 1000;
}

}  // namespace

FdInfo FdTable::lookup(int fd) {
  Entry* entry = find(fd, false);
  if (entry == nullptr) {
    // In range but never touched: unknown. Out of range: plain.
    return FdInfo{fd >= 0 && fd < kChunkSize * kChunkCount ? FdKind::kUnknown : FdKind::kPlain};
  }
  return decode(entry->state.load(std::memory_order_acquire));
}

FdInfo FdTable::adopt(int fd) {
  Entry* entry = find(fd, true);
  if (entry == nullptr) return FdInfo{FdKind::kPlain};
  uint32_t state = entry->state.load(std::memory_order_acquire);
  if (static_cast<FdKind>(state & kKindMask) != FdKind::kUnknown) return decode(state);
  // Claim the entry, so that a second thread cannot read back the O_NONBLOCK
  // this one is about to set and take it for the program's.
  if (!entry->state.compare_exchange_strong(state, encode(FdKind::kAdopting, false, false),
                                            std::memory_order_acq_rel)) {
    return decode(state);
  }
  int saved_errno = errno;
  auto finish = [&](uint32_t final_state) {
    entry->state.store(final_state, std::memory_order_release);
    errno = saved_errno;
    return decode(final_state);
  };

  struct stat status {};
  if (fstat(fd, &status) != 0) return finish(encode(FdKind::kUnknown, false, false));
  bool socket = S_ISSOCK(status.st_mode);
  if (!socket && !S_ISFIFO(status.st_mode)) {
    return finish(encode(FdKind::kPlain, false, false) |
                  (S_ISREG(status.st_mode) ? kRegularFile : 0));
  }
  int flags = patch::original::fcntl(fd, F_GETFL);
  if (flags < 0) return finish(encode(FdKind::kUnknown, false, false));
  bool user_nonblocking = (flags & O_NONBLOCK) != 0;
  if (!user_nonblocking && patch::original::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return finish(encode(FdKind::kPlain, false, false));
  }
  if (socket) {
    entry->timeout_ns[0].store(socket_timeout_ns(fd, SO_RCVTIMEO), std::memory_order_relaxed);
    entry->timeout_ns[1].store(socket_timeout_ns(fd, SO_SNDTIMEO), std::memory_order_relaxed);
  }
  return finish(encode(FdKind::kCooperative, user_nonblocking, socket));
}

void FdTable::created(int fd, bool user_nonblocking, bool socket) {
  Entry* entry = find(fd, true);
  if (entry == nullptr) return;
  entry->timeout_ns[0].store(0, std::memory_order_relaxed);
  entry->timeout_ns[1].store(0, std::memory_order_relaxed);
  entry->state.store(encode(FdKind::kCooperative, user_nonblocking, socket),
                     std::memory_order_release);
}

void FdTable::forget(int fd) {
  Entry* entry = find(fd, false);
  if (entry == nullptr) return;
  entry->state.store(0, std::memory_order_release);
  entry->timeout_ns[0].store(0, std::memory_order_relaxed);
  entry->timeout_ns[1].store(0, std::memory_order_relaxed);
}

void FdTable::copy(int fd, int target) {
  Entry* from = find(fd, false);
  uint32_t state = from == nullptr ? 0 : from->state.load(std::memory_order_acquire);
  if (static_cast<FdKind>(state & kKindMask) == FdKind::kAdopting) state = 0;
  Entry* to = find(target, state != 0);
  if (to == nullptr) return;
  for (int i = 0; i < 2; ++i) {
    to->timeout_ns[i].store(
        from == nullptr ? 0 : from->timeout_ns[i].load(std::memory_order_relaxed),
        std::memory_order_relaxed);
  }
  to->state.store(state, std::memory_order_release);
}

bool FdTable::set_user_nonblocking(int fd, bool nonblocking) {
  Entry* entry = find(fd, false);
  if (entry == nullptr) return false;
  uint32_t state = entry->state.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<FdKind>(state & kKindMask) != FdKind::kCooperative) return false;
    uint32_t wanted = nonblocking ? (state | kUserNonblocking) : (state & ~kUserNonblocking);
    if (entry->state.compare_exchange_weak(state, wanted, std::memory_order_acq_rel)) return true;
  }
}

Duration FdTable::timeout(int fd, Direction direction) {
  Entry* entry = find(fd, false);
  if (entry == nullptr) return Duration::zero();
  return Duration(entry->timeout_ns[static_cast<int>(direction)].load(std::memory_order_relaxed));
}

void FdTable::set_timeout(int fd, Direction direction, Duration timeout) {
  Entry* entry = find(fd, true);
  if (entry == nullptr) return;
  entry->timeout_ns[static_cast<int>(direction)].store(timeout.count(), std::memory_order_relaxed);
}

}  // namespace evergreen::patch_internal
