#include "evergreen/fiber/internal/stack_pool.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <system_error>

#include "evergreen/fiber/internal/cache_line.h"

namespace evergreen::fiber_internal {
namespace {

// Linux 6.13; older headers lack it.
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

// PIDFD_SELF_THREAD_GROUP: "the calling process" for pidfd-taking calls,
// without opening a pidfd. Kernels that lack it (or process_madvise of any
// advice on oneself, 6.13+) fail the call, and we fall back to one madvise
// per range.
constexpr int kPidfdSelfProcess = -10001;

constexpr size_t kMaxSlotsPerSlab = 64;
// The smallest guard region: GCC's stack-clash probe interval on aarch64
// (see stack_pool.h).
constexpr size_t kMinGuardBytes = 64 * 1024;
// Slabs of huge stacks hold fewer slots, so one slab stays below this size
// (or is a single slot).
constexpr size_t kMaxSlabBytes = size_t{256} << 20;
// Idle stacks keep their pages up to this many bytes of stack per pool.
constexpr size_t kWarmBytes = size_t{256} << 20;
constexpr size_t kMinWarmStacks = 16;
constexpr size_t kMaxWarmStacks = 4096;
// While free stacks exceed the warm limit, every this many allocations and
// releases check whether an idle interval has passed.
constexpr unsigned kOperationsPerIdleCheck = 64;
// How many free stacks walk_ahead() covers at a time.
constexpr size_t kWalkAheadStacks = 32;

std::chrono::nanoseconds coarse_now() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);  // vDSO: no system call
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// process_madvise(2) over `ranges`; false unless the kernel applied it to
// every byte (it reports partial success as a short byte count).
bool vectored_madvise(std::vector<iovec>& ranges, int advice) {
  size_t done = 0;
  while (done < ranges.size()) {
    const size_t count = std::min<size_t>(ranges.size() - done, IOV_MAX);
    size_t bytes = 0;
    for (size_t i = done; i < done + count; ++i) bytes += ranges[i].iov_len;
    const long result =
        syscall(SYS_process_madvise, kPidfdSelfProcess, ranges.data() + done, count, advice, 0);
    if (result < 0 || static_cast<size_t>(result) != bytes) return false;
    done += count;
  }
  return true;
}

}  // namespace

size_t page_size() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

size_t guard_size_for(size_t stack_size) {
  const size_t page = page_size();
  return (std::max(stack_size, kMinGuardBytes) + page - 1) / page * page;
}

// --- StackPool -------------------------------------------------------------------

StackPool::StackPool(size_t stack_size, KernelSupport& kernel,
                     std::chrono::nanoseconds idle_interval)
    : stack_size_(stack_size),
      guard_size_(guard_size_for(stack_size)),
      slot_size_(guard_size_ + stack_size),
      slots_per_slab_(std::clamp<size_t>(kMaxSlabBytes / slot_size_, 1, kMaxSlotsPerSlab)),
      warm_limit_(std::clamp<size_t>(kWarmBytes / stack_size, kMinWarmStacks, kMaxWarmStacks)),
      kernel_(kernel),
      idle_interval_(idle_interval),
      interval_start_(coarse_now()) {}

StackPool::~StackPool() {
  for (const auto& slab : slabs_) {
    unregister_slab(slab->guards);  // before its memory goes
    munmap(slab->address, slab->length);
  }
}

char* StackPool::allocate() {
  if (free_.empty()) add_slab();
  char* stack = free_.back();
  free_.pop_back();
  if (walked_ahead_ > 0) {
    --walked_ahead_;
  } else {
    walk_ahead();
  }
  low_water_ = std::min(low_water_, free_.size());
  cold_ = std::min(cold_, free_.size());
  note_activity();
  return stack;
}

void StackPool::release(char* stack) noexcept {
  // add_slab() reserved room for every stack, so this never reallocates.
  free_.push_back(stack);
  // Just used, so its top page is still in the TLB: next in line, and
  // walked. (Capped: stacks released long ago have left the TLB.)
  walked_ahead_ = std::min(walked_ahead_ + 1, kWalkAheadStacks);
  note_activity();
}

void StackPool::walk_ahead() noexcept {
  // With many fibers alive, every stack's top page is a TLB miss, and a
  // prefetch retires only once its page walk is done. One prefetch per start
  // would stall each start for a whole walk; a burst of them back to back
  // overlaps the walks. The next allocations take free_ from the back.
  // One line per stack (the top one, which holds the owner record a start
  // writes) is enough to get the walk going; Fiber::start() prefetches the
  // lines the first frames use, for the very next stack only.
  const size_t count = std::min(kWalkAheadStacks, free_.size());
  for (size_t i = 1; i <= count; ++i) {
    prefetch_for_write_below(free_[free_.size() - i] + stack_size_, 1);
  }
  walked_ahead_ = count;
}

void StackPool::note_activity() noexcept {
  // Cheap unless there are more warm free stacks than the limit, and even
  // then the clock is read only every kOperationsPerIdleCheck operations.
  if (free_.size() - cold_ > warm_limit_ && ++operations_since_check_ >= kOperationsPerIdleCheck) {
    operations_since_check_ = 0;
    trim_if_idle();
  }
}

void StackPool::add_slab() {
  const size_t length = slot_size_ * slots_per_slab_;
  // Reserve first: release() must not allocate, and if this throws no
  // mapping is left behind. Geometric growth keeps this amortized O(1).
  if (free_.capacity() < capacity_ + slots_per_slab_) {
    free_.reserve(std::max(2 * free_.capacity(), capacity_ + slots_per_slab_));
  }
  if (slabs_.capacity() == slabs_.size()) slabs_.reserve(std::max<size_t>(8, 2 * slabs_.size()));
  auto record = std::make_unique<Slab>();
  void* mapped = mmap(nullptr, length, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (mapped == MAP_FAILED) throw_errno("evergreen: cannot map fiber stacks");
  char* slab = static_cast<char*>(mapped);
  madvise(slab, length, MADV_NOHUGEPAGE);  // advisory: failure is harmless
  try {
    install_guards(slab, slots_per_slab_);
  } catch (...) {
    munmap(slab, length);
    throw;
  }
  populate_tops(slab, slots_per_slab_);
  record->address = slab;
  record->length = length;
  record->guards.low = slab;
  record->guards.slot_size = slot_size_;
  record->guards.guard_size = guard_size_;
  record->guards.slots = slots_per_slab_;
  register_slab(record->guards);
  slabs_.push_back(std::move(record));  // reserved above: cannot throw
  capacity_ += slots_per_slab_;
  // Highest slot last, so it is handed out first (any order would do).
  for (size_t i = 0; i < slots_per_slab_; ++i) {
    free_.push_back(slab + i * slot_size_ + guard_size_);
  }
}

void StackPool::install_guards(char* slab, size_t slots) {
  const size_t guard = guard_size_;
  if (kernel_.guard_install && kernel_.vectored_madvise) {
    std::vector<iovec> guards(slots);
    for (size_t i = 0; i < slots; ++i) guards[i] = iovec{slab + i * slot_size_, guard};
    if (vectored_madvise(guards, MADV_GUARD_INSTALL)) return;
    kernel_.vectored_madvise = false;
  }
  for (size_t i = 0; i < slots; ++i) {
    char* low = slab + i * slot_size_;
    if (kernel_.guard_install) {
      if (madvise(low, guard, MADV_GUARD_INSTALL) == 0) continue;
      if (errno != EINVAL) throw_errno("evergreen: cannot install a fiber stack guard region");
      kernel_.guard_install = false;  // kernel older than 6.13
    }
    if (mprotect(low, guard, PROT_NONE) != 0) {
      throw_errno("evergreen: cannot install a fiber stack guard region");
    }
  }
}

void StackPool::populate_tops(char* slab, size_t slots) {
  // One page per stack. Only worth it as a single vectored call: a separate
  // madvise per page costs about as much as the fault it saves.
  if (!kernel_.vectored_madvise) return;
  const size_t page = page_size();
  std::vector<iovec> tops(slots);
  for (size_t i = 0; i < slots; ++i) tops[i] = iovec{slab + (i + 1) * slot_size_ - page, page};
  // Failure (e.g. no memory right now) only means the pages fault later.
  vectored_madvise(tops, MADV_POPULATE_WRITE);
}

void StackPool::trim_if_idle() noexcept {
  const std::chrono::nanoseconds now = coarse_now();
  if (now - interval_start_ < idle_interval_) return;
  // free_[0, low_water_) stayed free for the whole interval. Of those, all
  // but the warm_limit_ most recently released stacks lose their pages.
  const size_t keep_from = free_.size() > warm_limit_ ? free_.size() - warm_limit_ : 0;
  const size_t idle_end = std::min(low_water_, keep_from);
  if (idle_end > cold_) {
    return_pages(cold_, idle_end);
    cold_ = idle_end;
  }
  interval_start_ = now;
  low_water_ = free_.size();
}

void StackPool::return_pages(size_t begin, size_t end) noexcept {
  // Sorting by address lets one madvise cover a run of neighbours (the
  // guards between them keep their markers: MADV_DONTNEED does not remove
  // guard regions, nor mprotect's PROT_NONE). Their order in the free list
  // does not matter: they are all equally cold.
  auto first = free_.begin() + static_cast<std::ptrdiff_t>(begin);
  auto last = free_.begin() + static_cast<std::ptrdiff_t>(end);
  std::sort(first, last);
  for (auto run = first; run != last;) {
    auto run_end = run + 1;
    while (run_end != last && *run_end == *(run_end - 1) + slot_size_) ++run_end;
    madvise(*run, static_cast<size_t>(*(run_end - 1) - *run) + stack_size_, MADV_DONTNEED);
    run = run_end;
  }
}

// --- StackPools ----------------------------------------------------------------

StackPool& StackPools::pool_for(size_t stack_size) {
  if (last_ != nullptr && last_->stack_size() == stack_size) return *last_;
  for (auto& pool : pools_) {
    if (pool->stack_size() == stack_size) return *(last_ = pool.get());
  }
  pools_.push_back(std::make_unique<StackPool>(stack_size, kernel_));
  return *(last_ = pools_.back().get());
}

char* StackPools::allocate(size_t stack_size, const char** next) {
  StackPool& pool = pool_for(stack_size);
  char* stack = pool.allocate();
  if (next != nullptr) *next = pool.next_free();
  return stack;
}

void StackPools::release(char* stack, size_t stack_size) noexcept {
  // The pool exists: the stack came from it.
  if (last_ == nullptr || last_->stack_size() != stack_size) {
    for (auto& pool : pools_) {
      if (pool->stack_size() == stack_size) last_ = pool.get();
    }
  }
  last_->release(stack);
}

const StackPool* StackPools::find(size_t stack_size) const {
  for (const auto& pool : pools_) {
    if (pool->stack_size() == stack_size) return pool.get();
  }
  return nullptr;
}

}  // namespace evergreen::fiber_internal
