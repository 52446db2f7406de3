#include "evergreen/loop/internal/task_memory.h"

#include <cstdint>
#include <new>

namespace evergreen::internal {
namespace {

struct FreeBlock {
  FreeBlock* next;
};

// Freed blocks of one size: the size of the first block freed on this thread
// (spawn() makes blocks of a single size).
class BlockCache {
 public:
  ~BlockCache();
  void* take(size_t bytes) {
    if (bytes != block_bytes_ || first_ == nullptr) return nullptr;
    FreeBlock* block = first_;
    first_ = block->next;
    --count_;
    return block;
  }
  bool keep(void* block, size_t bytes) {
    if (block_bytes_ == 0) {
      if (bytes < sizeof(FreeBlock)) return false;
      block_bytes_ = bytes;
      limit_ = kMaxCachedTaskBytes / bytes;
    }
    if (bytes != block_bytes_ || count_ >= limit_) return false;
    first_ = new (block) FreeBlock{first_};
    ++count_;
    return true;
  }
  size_t count() const { return count_; }

 private:
  FreeBlock* first_ = nullptr;
  size_t count_ = 0;
  size_t block_bytes_ = 0;
  size_t limit_ = 0;
};

// Whether this thread's cache has been destroyed (at thread exit): a
// shared_ptr<Task> released later, by another thread_local's destructor,
// frees its block directly. Trivially destructible, so it can still be read.
thread_local bool cache_destroyed = false;
thread_local BlockCache cache;

BlockCache::~BlockCache() {
  cache_destroyed = true;
  while (first_ != nullptr) {
    FreeBlock* block = first_;
    first_ = block->next;
    ::operator delete(block, block_bytes_);
  }
}

}  // namespace

void* allocate_task_block(size_t bytes) {
  if (kTaskBlockCache && !cache_destroyed) {
    if (void* block = cache.take(bytes)) return block;
  }
  return ::operator new(bytes);
}

void deallocate_task_block(void* block, size_t bytes) noexcept {
  if (kTaskBlockCache && !cache_destroyed && cache.keep(block, bytes)) return;
  ::operator delete(block, bytes);
}

size_t cached_task_blocks() { return kTaskBlockCache && !cache_destroyed ? cache.count() : 0; }

}  // namespace evergreen::internal
