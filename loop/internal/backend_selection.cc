#include "evergreen/loop/internal/backend_selection.h"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace evergreen::internal {
namespace {

Backend from_environment() {
  const char* value = std::getenv("EVERGREEN_BACKEND");
  if (value == nullptr || *value == '\0') return Backend::kAuto;
  std::string_view name(value);
  if (name == "epoll") return Backend::kEpoll;
  if (name == "io_uring") return Backend::kIoUring;
  throw std::invalid_argument("evergreen: EVERGREEN_BACKEND=\"" + std::string(name) +
                              "\" names no backend (use \"epoll\" or \"io_uring\")");
}

}  // namespace

Backend choose_backend(Backend requested) {
  if (requested == Backend::kAuto) requested = from_environment();
  if (requested == Backend::kIoUring) {
    throw std::system_error(ENOSYS, std::generic_category(),
                            "evergreen: the io_uring backend is not available in this build");
  }
  return Backend::kEpoll;
}

}  // namespace evergreen::internal
