// What a loop under evergreen::testing::run_with_virtual_time() keeps besides
// its usual state (loop/testing.h has the contract; loop_core_virtual.cc the
// iteration that uses it). A loop with a real clock has none of it: one null
// pointer in LoopCore.
#ifndef EVERGREEN_LOOP_INTERNAL_VIRTUAL_TIME_STATE_H_
#define EVERGREEN_LOOP_INTERNAL_VIRTUAL_TIME_STATE_H_

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/ready_queue.h"

namespace evergreen::internal {

struct BlockingContext;

struct VirtualTimeState {
  // Where this thread's loop_now() points while the loop lives.
  VirtualClock clock;
  // With a shuffle seed: the generator each turn's order is drawn from
  // (mt19937_64 is specified exactly by the standard, so a seed gives the
  // same order with every compiler and library), and a buffer reused for
  // the permutation.
  std::optional<std::mt19937_64> shuffle;
  std::vector<ReadyNode*> turn;
  // The context inside wait_idle(), if any: woken instead of the clock
  // moving.
  BlockingContext* idle_waiter = nullptr;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_VIRTUAL_TIME_STATE_H_
