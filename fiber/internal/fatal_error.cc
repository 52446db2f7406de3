#include "evergreen/fiber/internal/fatal_error.h"

#include <cstdio>
#include <cstdlib>

namespace evergreen::fiber_internal {

void fatal_error(std::string_view message) {
  std::fprintf(stderr, "evergreen: fatal: %.*s\n", static_cast<int>(message.size()),
               message.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace evergreen::fiber_internal
