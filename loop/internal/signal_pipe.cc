#include "evergreen/loop/internal/signal_pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "evergreen/loop/internal/signal_router.h"

namespace evergreen::internal {

SignalPipe::SignalPipe(Poller& poller) : poller_(poller) {
  if (pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "evergreen: signal pipe");
  }
  try {
    token_ = poller_.add(fds_[0], kPollIn, this);
  } catch (...) {
    close(fds_[0]);
    close(fds_[1]);
    throw;
  }
}

SignalPipe::~SignalPipe() {
  for (auto& [signum, records] : handlers_) {
    remove_signal_route(signum, fds_[1]);
    for (auto& record : records) record->loop = nullptr;
  }
  poller_.remove(token_, fds_[0]);
  close(fds_[0]);
  close(fds_[1]);
}

void SignalPipe::add(int signum, std::shared_ptr<CallbackRecord> record) {
  // Routed before the entry exists: a refused signal leaves no entry behind
  // for remove_all() to find.
  if (!handlers_.contains(signum)) add_signal_route(signum, fds_[1]);
  handlers_[signum].push_back(std::move(record));
}

bool SignalPipe::remove_all(int signum) {
  auto found = handlers_.find(signum);
  if (found == handlers_.end()) return false;
  for (auto& record : found->second) record->loop = nullptr;
  handlers_.erase(found);
  remove_signal_route(signum, fds_[1]);
  return true;
}

void SignalPipe::remove(CallbackRecord* record) {
  auto found = handlers_.find(record->signum);
  if (found == handlers_.end()) return;
  auto& records = found->second;
  for (auto it = records.begin(); it != records.end(); ++it) {
    if (it->get() == record) {
      records.erase(it);
      break;
    }
  }
  if (records.empty()) remove_all(record->signum);
}

void SignalPipe::on_poll_events(uint32_t) {
  unsigned char signums[64];
  ssize_t count;
  while ((count = read(fds_[0], signums, sizeof signums)) > 0) {
    for (ssize_t i = 0; i < count; ++i) {
      auto found = handlers_.find(signums[i]);
      if (found == handlers_.end()) continue;
      // A copy: a handler may add or cancel handlers.
      std::vector<std::shared_ptr<CallbackRecord>> records = found->second;
      for (auto& record : records) record->invoke();
    }
  }
}

}  // namespace evergreen::internal
