#include "evergreen/loop/internal/backend_selection.h"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "evergreen/loop/internal/poller_epoll.h"
#include "evergreen/loop/internal/poller_io_uring.h"

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

// The test hook (see the header): a refusal like seccomp's.
bool refusal_simulated() {
  const char* value = std::getenv("EVERGREEN_TEST_REFUSE_IO_URING");
  return value != nullptr && *value != '\0';
}

std::unique_ptr<Poller> open_io_uring() {
  if (refusal_simulated()) {
    throw std::system_error(EPERM, std::generic_category(),
                            "evergreen: io_uring: io_uring_setup refused (simulated by "
                            "EVERGREEN_TEST_REFUSE_IO_URING)");
  }
  return std::make_unique<IoUringPoller>();
}

}  // namespace

OpenedBackend open_backend(Backend requested) {
  OpenedBackend opened;
  bool automatic = requested == Backend::kAuto;
  if (automatic) {
    requested = from_environment();
    automatic = requested == Backend::kAuto;
  }
  if (requested == Backend::kEpoll) {
    opened.poller = std::make_unique<EpollPoller>();
    return opened;
  }
  try {
    opened.poller = open_io_uring();
    opened.backend = Backend::kIoUring;
    return opened;
  } catch (const std::system_error& error) {
    if (!automatic) throw;
    // Missing or refused (seccomp, the sysctl, an old kernel): epoll does
    // everything io_uring would, so use it and keep the reason for whoever
    // asks.
    opened.fallback_reason = error.what();
  }
  opened.poller = std::make_unique<EpollPoller>();
  opened.backend = Backend::kEpoll;
  return opened;
}

}  // namespace evergreen::internal
