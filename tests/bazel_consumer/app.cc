// Uses evergreen beside the workspace's own Abseil, and proves that evergreen
// was built against that copy (its targets carry a define evergreen's Debian
// wrapper does not).
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/queue.h"

#ifndef CONSUMERS_OWN_ABSEIL
#error "evergreen was not built against the workspace's own com_google_absl"
#endif

int main() {
  evergreen::Queue<int> queue;
  auto producer = evergreen::spawn([&] {
    for (int i = 1; i <= 3; ++i) queue.put(i);
  });
  int sum = 0;
  for (int i = 0; i < 3; ++i) sum += queue.get();
  producer->join();
  std::puts(absl::StrCat("bazel consumer: ok (sum ", sum, ")").c_str());
  return sum == 6 ? 0 : 1;
}
