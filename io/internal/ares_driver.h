// AresDriver: a c-ares channel run by this thread's event loop, so name
// lookups never block the thread. c-ares tells us which of its sockets to
// watch (ARES_OPT_SOCK_STATE_CB); each one is a level-triggered listener on
// the loop's fd registry (shared with any other user of the same fd) and is
// handed back to ares_process_fd() when ready, and a loop timer fires at
// c-ares' next deadline (ares_timeout()) to drive retries and timeouts.
//
// The sockets do not keep the loop running; a task waiting for an answer
// holds a keep-alive instead. When the loop is destroyed the channel is
// destroyed with it (pending queries complete with ARES_EDESTRUCTION).
// Single-threaded.
#ifndef EVERGREEN_IO_INTERNAL_ARES_DRIVER_H_
#define EVERGREEN_IO_INTERNAL_ARES_DRIVER_H_

#include <ares.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "evergreen/loop/internal/fd_registry.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/timer_heap.h"

namespace evergreen::io::internal {

class AresDriver final : public evergreen::internal::Scheduler::DestroyListener {
 public:
  // A channel on this thread's loop. `options`/`optmask` are passed to
  // ares_init_options() (the socket callback is added here); `servers`, when
  // not empty, replaces the configured name servers
  // (ares_set_servers_ports_csv). Throws DNSError if c-ares refuses, and
  // std::invalid_argument for a malformed server list.
  AresDriver(ares_options options, int optmask, const std::string& servers);
  ~AresDriver() override;
  AresDriver(const AresDriver&) = delete;
  AresDriver& operator=(const AresDriver&) = delete;

  // The channel, or null once the loop was destroyed.
  ares_channel channel() const { return channel_; }
  evergreen::internal::Scheduler* loop() const { return loop_; }

  // Call after starting a query: arms the timer for c-ares' next deadline.
  void update_timer();

 private:
  struct SocketWatch;
  struct Deadline;

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
  void watch(ares_socket_t fd, bool readable, bool writable);
  // ares_process_fd() plus the bookkeeping every entry into c-ares needs.
  void process(ares_socket_t read_fd, ares_socket_t write_fd);
  void on_loop_destroyed() override;
  void shut_down();

  evergreen::internal::Scheduler* loop_ = nullptr;
  ares_channel channel_ = nullptr;
  std::unordered_map<ares_socket_t, std::unique_ptr<SocketWatch>> watches_;
  // Watches c-ares dropped while their own event was being handled: freed
  // once that handler has returned.
  std::vector<std::unique_ptr<SocketWatch>> retired_;
  std::unique_ptr<Deadline> deadline_;
  int processing_ = 0;
};

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_ARES_DRIVER_H_
