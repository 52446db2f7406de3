#include "evergreen/io/internal/ares_driver.h"

#include <sys/time.h>

#include <chrono>
#include <mutex>
#include <stdexcept>

#include "evergreen/io/errors.h"
#include "evergreen/loop/event_loop.h"

namespace evergreen::io::internal {

using evergreen::internal::kPollError;
using evergreen::internal::kPollHangUp;
using evergreen::internal::kPollIn;
using evergreen::internal::kPollOut;
using evergreen::internal::Scheduler;
using evergreen::internal::Poller;

struct AresDriver::SocketWatch final : evergreen::internal::PollHandler {
  void on_poll_events(uint32_t events) override {
    // Level-triggered: c-ares reads one packet per call and says when it
    // wants more; these sockets are few and rarely busy.
    bool readable = events & (kPollIn | kPollHangUp | kPollError);
    bool writable = events & (kPollOut | kPollHangUp | kPollError);
    // May retire this watch: nothing touches `this` afterwards.
    driver->process(readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
  }
  AresDriver* driver = nullptr;
  ares_socket_t fd = ARES_SOCKET_BAD;
  Poller::Token token = 0;
  uint32_t events = 0;
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
    for (auto& [fd, watch] : watches_) loop_->poller().remove(watch->token, fd);
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
    loop_->poller().remove(found->second->token, fd);
    retired_.push_back(std::move(found->second));
    watches_.erase(found);
    return;
  }
  if (found != watches_.end()) {
    SocketWatch& existing = *found->second;
    if (existing.events != events) {
      loop_->poller().modify(existing.token, fd, events);
      existing.events = events;
    }
    return;
  }
  auto created = std::make_unique<SocketWatch>();
  created->driver = this;
  created->fd = fd;
  created->events = events;
  created->token = loop_->poller().add(fd, events, created.get());
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
  loop_->add_timer(deadline_.get(), std::chrono::steady_clock::now() + delay);
}

}  // namespace evergreen::io::internal
