// evergreen/io/udp.h
//
// UDPEndpoint: cooperative datagrams, for servers and clients alike.
//
//   io::UDPEndpoint server;
//   server.bind({"127.0.0.1", 0});
//   for (;;) {
//     auto [data, from] = server.receive();   // blocks this task only
//     server.send(data, from);
//   }
//
// Guarantees:
// - Each receive() returns one whole datagram and its source address:
//   datagrams up to the protocol's limit (65,507 bytes over IPv4, 65,527 over
//   IPv6) by default. One larger than the receive buffer (see
//   set_receive_buffer_size) is never silently truncated: receive() throws.
// - send() accepts a datagram up to its destination family's limit.
// - send() never drops a datagram because the socket buffer is full: the
//   datagram is queued and sent as the buffer drains; flush() waits for the
//   queue. Past a high-water mark of queued bytes send() blocks.
// - After close() every operation throws UDPError, and tasks blocked in
//   receive() or flush() wake with it.
// A single-loop object: it belongs to the thread that first uses it, and a
// member called from another thread throws std::logic_error naming both
// threads (builds without NDEBUG). Not thread-safe.
#ifndef EVERGREEN_IO_UDP_H_
#define EVERGREEN_IO_UDP_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "evergreen/io/address.h"
#include "evergreen/io/bind_options.h"
#include "evergreen/io/errors.h"
#include "evergreen/io/internal/io_watcher.h"
#include "evergreen/io/internal/socket_address.h"
#include "evergreen/io/internal/unique_fd.h"
#include "evergreen/loop/internal/thread_affinity.h"

namespace evergreen::io {

class UDPEndpoint : private internal::IoWatcher::WriteDrain {
 public:
  static constexpr size_t kDefaultSendHighWater = 1u << 20;
  // The largest UDP payloads: 65,535 less the UDP header (8) and, over IPv4,
  // the IP header (20); IPv6's header is not counted in its payload length.
  // (IPv6 jumbograms are not supported.)
  static constexpr size_t kMaxIPv4Datagram = 65507;
  static constexpr size_t kMaxIPv6Datagram = 65527;

  UDPEndpoint();
  // Closes the endpoint; queued datagrams are dropped.
  ~UDPEndpoint() override;
  UDPEndpoint(const UDPEndpoint&) = delete;
  UDPEndpoint& operator=(const UDPEndpoint&) = delete;

  // UDPEndpoint::bind()
  //
  // Binds to `address` (port 0: an ephemeral port; a host name is resolved
  // first and its first address used). Throws UDPError: EADDRINUSE, EINVAL for
  // a malformed address or when already bound, the DNS status for a name that
  // does not resolve, EBADF after close(). With options.reuse_port, other
  // endpoints that ask for it too may bind the same address, and the kernel
  // spreads datagrams among them; see bind_options.h.
  void bind(const Address& address, BindOptions options = {});

  // UDPEndpoint::send()
  //
  // Sends `data` as one datagram to `address` (an IP literal or a host name,
  // resolved first). An endpoint not yet bound gets an ephemeral port of the
  // destination's family. Returns true when the datagram went out at once,
  // false when it was queued behind others. Blocks only while more than the
  // high-water mark is queued, or to resolve a name. Throws UDPError (EMSGSIZE
  // for a datagram over its destination family's limit, EBADF after close(),
  // the errno of a failed send).
  bool send(std::string_view data, const Address& address);

  // UDPEndpoint::receive()
  //
  // Blocks until a datagram arrives; returns it with its source address.
  // Honours Timeout and kill. Throws UDPError: EBADF after close() (also for a
  // task blocked here when close() is called), ENOTCONN when the endpoint has
  // neither been bound nor sent anything, EMSGSIZE for a datagram larger than
  // receive_buffer_size() (the datagram is consumed; the next receive() gets
  // the next one), or the errno of a failed receive.
  std::pair<std::string, Address> receive();

  // UDPEndpoint::flush()
  //
  // Blocks until every queued datagram has been handed to the kernel. Throws
  // UDPError after close() or if a queued send fails.
  void flush();

  // UDPEndpoint::close()
  //
  // Closes the socket, drops queued datagrams and wakes blocked tasks with
  // UDPError. Closing twice does nothing; never throws.
  void close();

  bool closed() const { return closed_; }

  // The local address. Throws UDPError before bind()/send() or after close().
  Address sockname() const;

  // The socket, or -1.
  int fileno() const { return fd_.get(); }

  size_t send_high_water() const { return send_high_water_; }
  void set_send_high_water(size_t bytes) { send_high_water_ = bytes; }
  // Bytes queued by send() and not yet handed to the kernel.
  size_t pending_output() const { return queued_bytes_; }

  // The largest datagram receive() returns (default kMaxIPv6Datagram, enough
  // for any datagram of either family). A smaller buffer saves memory for a
  // protocol with small datagrams; a larger one is an error. Throws
  // std::invalid_argument for 0 or more than kMaxIPv6Datagram.
  size_t receive_buffer_size() const { return receive_buffer_size_; }
  void set_receive_buffer_size(size_t bytes);

 private:
  struct Datagram {
    std::string data;
    internal::SocketAddress to;
  };

  [[noreturn]] void raise(int errno_value, const std::string& what) const;
  void check_open(const char* operation) const;
  void open_socket(int family, const std::string& context);
  internal::SocketAddress resolve(const Address& address, const std::string& context);
  // Sends queued datagrams until EAGAIN; returns 0 or a failed send's errno.
  int drain_queue();
  void on_writable() override;
  // The io_uring backend: receives and sends wait as ring operations
  // (io/internal/ring_call.h) rather than on readiness.
  bool uses_ring() const;
  // One ring recvmsg: the datagram, or nullopt to look again.
  std::optional<std::pair<std::string, Address>> receive_on_ring();
  // One ring sendmsg of the queue's front datagram, parking until it ends.
  void send_front_on_ring(const char* operation);

  internal::UniqueFd fd_;
  internal::IoWatcher watcher_;
  std::deque<Datagram> queue_;
  size_t queued_bytes_ = 0;
  size_t send_high_water_ = kDefaultSendHighWater;
  std::unique_ptr<char[]> receive_buffer_;
  size_t receive_buffer_size_ = kMaxIPv6Datagram;
  bool closed_ = false;
  // A ring sendmsg reads the queue's front datagram.
  bool ring_send_in_flight_ = false;
  evergreen::internal::ThreadAffinity affinity_;
  int error_ = 0;  // a queued send's failure, reported by the next operation
};

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_UDP_H_
