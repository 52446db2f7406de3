#include "evergreen/io/internal/ares_driver.h"

#include <sys/time.h>

#include <chrono>
#include <mutex>
#include <stdexcept>

#include "evergreen/io/errors.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/loop_clock.h"

namespace evergreen::io::internal {

using evergreen::internal::kPollError;
using evergreen::internal::kPollHangUp;
using evergreen::internal::kPollIn;
using evergreen::internal::kPollOut;
using evergreen::internal::Scheduler;

// One c-ares socket: a level-triggered listener on the loop's fd registry.
// Level-triggered because c-ares reads one packet per call and says when it
// wants more (through on_socket_state()); these sockets are few and rarely
// busy, so an event per poll while ready costs nothing that matters.
struct AresDriver::SocketWatch final : evergreen::internal::FdListener {
  SocketWatch() { level_triggered = true; }
  void on_fd_events(uint32_t events) override {
    // The entry may be shared with another listener of the same fd: pass on
    // only what c-ares asked for (and the errors, which end its wait).
    bool readable = (interest & kPollIn) && (events & (kPollIn | kPollHangUp | kPollError));
    bool writable = (interest & kPollOut) && (events & (kPollOut | kPollHangUp | kPollError));
    if (!readable && !writable) return;
    // May retire this watch: nothing touches `this` afterwards.
    driver->process(readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
  }
  // The socket was closed behind c-ares' back (a patched close() of its fd):
  // c-ares still owns the number and will report the socket closed, or fail
  // its query by its own timeout. Nothing is watched meanwhile.
  void on_fd_forgotten() override {}
  AresDriver* driver = nullptr;
  ares_socket_t fd = ARES_SOCKET_BAD;
};

struct AresDriver::Deadline final : evergreen::internal::TimerEntry {
  void fire() override { driver->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD); }
  AresDriver* driver = nullptr;
};

AresDriver::AresDriver(ares_options options, int optmask, const std::string& servers) {
  static std::once_flag library_initialized;
  std::call_once(library_initialized, [] { ares_library_init(ARES_LIB_INIT_ALL); });

  loop_ = &evergreen::internal::Scheduler::current();
  deadline_ = std::make_unique<Deadline>();
  deadline_->driver = this;
  options.sock_state_cb = &AresDriver::on_socket_state;
  options.sock_state_cb_data = this;
  int status = ares_init_options(&channel_, &options, optmask | ARES_OPT_SOCK_STATE_CB);
  if (status != ARES_SUCCESS) {
    channel_ = nullptr;
    throw DNSError(status, "evergreen: cannot start the DNS resolver");
  }
  if (!servers.empty()) {
    status = ares_set_servers_ports_csv(channel_, servers.c_str());
    if (status != ARES_SUCCESS) {
      ares_destroy(channel_);
      channel_ = nullptr;
      throw std::invalid_argument(
          "evergreen: invalid DNS server list '" + servers +
          "' (expected \"host:port,...\", IPv6 as \"[::1]:53\"): " + ares_strerror(status));
    }
  }
  loop_->add_destroy_listener(this);
}

AresDriver::~AresDriver() {
  if (loop_ != nullptr) loop_->remove_destroy_listener(this);
  shut_down();
}

void AresDriver::on_loop_destroyed() { shut_down(); }

void AresDriver::shut_down() {
  if (channel_ != nullptr) {
    // Completes pending queries with ARES_EDESTRUCTION and reports each of its
    // sockets closed through on_socket_state(), which unregisters them.
    ++processing_;
    ares_destroy(channel_);
    --processing_;
    channel_ = nullptr;
  }
  if (loop_ != nullptr) {
    for (auto& [fd, watch] : watches_) {
      if (watch->registered()) loop_->fds().remove(*watch);
    }
    if (deadline_->armed()) loop_->remove_timer(deadline_.get());
  }
  watches_.clear();
  retired_.clear();
  loop_ = nullptr;
}

void AresDriver::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
  static_cast<AresDriver*>(data)->watch(fd, readable != 0, writable != 0);
}

void AresDriver::watch(ares_socket_t fd, bool readable, bool writable) {
  if (loop_ == nullptr) return;
  uint32_t events = (readable ? kPollIn : 0) | (writable ? kPollOut : 0);
  auto found = watches_.find(fd);
  if (events == 0) {
    if (found == watches_.end()) return;
    if (found->second->registered()) loop_->fds().remove(*found->second);
    retired_.push_back(std::move(found->second));
    watches_.erase(found);
    return;
  }
  if (found != watches_.end()) {
    SocketWatch& existing = *found->second;
    if (!existing.registered()) {
      // Forgotten (closed behind c-ares' back), and c-ares still wants the
      // number watched: whatever file has it now is what c-ares will read.
      existing.interest = events;
      loop_->fds().add(fd, existing);
    } else if (existing.interest != events) {
      existing.interest = events;
      loop_->fds().update(existing);
    }
    return;
  }
  auto created = std::make_unique<SocketWatch>();
  created->driver = this;
  created->fd = fd;
  created->interest = events;
  loop_->fds().add(fd, *created);
  watches_.emplace(fd, std::move(created));
}

void AresDriver::process(ares_socket_t read_fd, ares_socket_t write_fd) {
  if (channel_ == nullptr) return;
  ++processing_;
  ares_process_fd(channel_, read_fd, write_fd);
  --processing_;
  if (processing_ == 0) retired_.clear();
  update_timer();
}

void AresDriver::update_timer() {
  if (loop_ == nullptr || channel_ == nullptr) return;
  if (deadline_->armed()) loop_->remove_timer(deadline_.get());
  timeval wait{};
  if (ares_timeout(channel_, nullptr, &wait) == nullptr) return;  // no query pending
  auto delay = std::chrono::seconds(wait.tv_sec) + std::chrono::microseconds(wait.tv_usec);
  loop_->add_timer(deadline_.get(), ::evergreen::internal::loop_now() + delay);
}

}  // namespace evergreen::io::internal
