#include "evergreen/io/udp.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "evergreen/io/internal/fd_ops.h"
#include "evergreen/io/internal/raise.h"
#include "evergreen/io/internal/resolve.h"
#include "evergreen/io/internal/reuse_port.h"
#include "evergreen/io/internal/ring_call.h"
#include "evergreen/loop/internal/scheduler.h"
#include "evergreen/loop/internal/wait_label.h"

namespace evergreen::io {

using internal::ErrorKind;
using internal::SocketAddress;
using internal::RingOutcome;
using internal::WaitResult;
using Kind = evergreen::internal::KernelOperation::Kind;

namespace {

[[noreturn]] void raise_destroyed(const char* operation) {
  internal::raise_error(ErrorKind::kUDP, EBADF,
                        std::string("evergreen: ") + operation +
                            ": the UDP endpoint was destroyed while this task waited on it");
}

ssize_t send_to(int fd, std::string_view data, const SocketAddress& to) {
  return internal::send_datagram(fd, data.data(), data.size(), to);
}

}  // namespace

UDPEndpoint::UDPEndpoint() = default;

UDPEndpoint::~UDPEndpoint() {
  watcher_.orphan_waiters();
  affinity_.bind_to_this_thread();  // a destructor must not throw: unchecked
  close();
}

void UDPEndpoint::raise(int errno_value, const std::string& what) const {
  internal::raise_error(ErrorKind::kUDP, errno_value, "evergreen: " + what);
}

void UDPEndpoint::check_open(const char* operation) const {
  affinity_.check(this, "io::UDPEndpoint", operation);
  if (!closed_) return;
  if (error_ != 0) {
    raise(error_, std::string(operation) + ": the UDP endpoint was closed after a send failed");
  }
  raise(EBADF, std::string(operation) + " on a closed UDP endpoint");
}

void UDPEndpoint::close() {
  if (closed_) return;
  affinity_.check(this, "io::UDPEndpoint", "close");
  closed_ = true;
  watcher_.detach();
  fd_.reset();
  queue_.clear();
  queued_bytes_ = 0;
  receive_buffer_.reset();
}

SocketAddress UDPEndpoint::resolve(const Address& address, const std::string& context) {
  std::vector<SocketAddress> found;
  {
    // A host name blocks while it resolves: the endpoint may be destroyed.
    internal::IoWatcher::Operation lookup(watcher_);
    found = internal::resolve_endpoint(address, ErrorKind::kUDP, context);
    if (lookup.owner_destroyed()) {
      internal::raise_error(ErrorKind::kUDP, EBADF,
                            "evergreen: " + context + ": the endpoint was destroyed meanwhile");
    }
  }
  check_open("resolve");
  if (found.empty()) raise(EADDRNOTAVAIL, context + ": the name has no address");
  return found.front();
}

void UDPEndpoint::open_socket(int family, const std::string& context) {
  internal::UniqueFd fd;
  if (int error = internal::open_socket(family, SOCK_DGRAM, &fd)) raise(error, context);
  try {
    watcher_.attach(fd.get(), this);
  } catch (const std::system_error& error) {
    raise(error.code().value(), context);
  }
  fd_ = std::move(fd);
}

void UDPEndpoint::bind(const Address& address, BindOptions options) {
  std::string context = "cannot bind a UDP endpoint to " + address.to_string();
  check_open("bind");
  if (fd_.valid()) raise(EINVAL, context + ": the endpoint is already bound");
  SocketAddress local = resolve(address, context);
  open_socket(local.family(), context);
  int error = options.reuse_port ? internal::enable_reuse_port(fd_.get()) : 0;
  if (error == 0) error = internal::bind_socket(fd_.get(), local);
  if (error != 0) {
    watcher_.detach();
    fd_.reset();
    raise(error, context);
  }
}

bool UDPEndpoint::send(std::string_view data, const Address& address) {
  check_open("send");
  if (data.size() > kMaxIPv6Datagram) {
    raise(EMSGSIZE, "cannot send to " + address.to_string() + ": a " + std::to_string(data.size()) +
                        "-byte datagram is larger than UDP allows (65,527 bytes over IPv6)");
  }
  std::optional<SocketAddress> literal = internal::parse_ip_literal(address.host, address.port);
  SocketAddress to = literal ? *literal : resolve(address, "cannot send to " + address.to_string());
  check_open("send");  // resolving blocked: a close() may have happened meanwhile
  if (to.family() == AF_INET && data.size() > kMaxIPv4Datagram) {
    raise(EMSGSIZE, "cannot send to " + address.to_string() + ": a " + std::to_string(data.size()) +
                        "-byte datagram is larger than UDP allows over IPv4 (65,507 bytes)");
  }
  if (!fd_.valid()) open_socket(to.family(), "cannot send to " + address.to_string());
  if (queue_.empty() && watcher_.writable()) {
    for (;;) {
      if (send_to(fd_.get(), data, to) >= 0) return true;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
      raise(errno, "cannot send to " + address.to_string());
    }
    watcher_.clear_writable();
  }
  queue_.push_back(Datagram{std::string(data), to});
  queued_bytes_ += data.size();
  while (queued_bytes_ > send_high_water_) {
    if (uses_ring() && !ring_send_in_flight_) {
      send_front_on_ring("send");
      continue;
    }
    if (watcher_.wait_writable() == WaitResult::kDestroyed) raise_destroyed("send");
    check_open("send");
  }
  return false;
}

bool UDPEndpoint::uses_ring() const {
  return watcher_.loop() != nullptr && watcher_.loop()->performs_operations();
}

void UDPEndpoint::send_front_on_ring(const char* operation) {
  // The datagram stays at the queue's front (a deque keeps it in place as
  // others are queued behind it) until the call has ended.
  const Datagram& next = queue_.front();
  iovec buffer{const_cast<char*>(next.data.data()), next.data.size()};
  msghdr message{};
  message.msg_name = const_cast<sockaddr*>(next.to.get());
  message.msg_namelen = next.to.length;
  message.msg_iov = &buffer;
  message.msg_iovlen = 1;
  ring_send_in_flight_ = true;
  RingOutcome outcome;
  try {
    outcome = internal::perform_ring_call(watcher_, {Kind::kSendMsg, fd_.get(), &message, 0},
                                          operation);
  } catch (...) {
    ring_send_in_flight_ = false;
    throw;
  }
  if (outcome.state == WaitResult::kDestroyed) raise_destroyed(operation);
  ring_send_in_flight_ = false;
  watcher_.notify_writers();
  check_open(operation);  // close() waited for the send before it dropped the queue
  if (outcome.result >= 0) {
    queued_bytes_ -= next.data.size();
    queue_.pop_front();
  }
  internal::raise_if_interrupted(outcome);
  int error = outcome.result < 0 ? -outcome.result : 0;
  if (error != 0 && error != EAGAIN && error != ENOBUFS && error != ECANCELED && error != EINTR) {
    error_ = error;
    close();
    check_open(operation);
  }
}

int UDPEndpoint::drain_queue() {
  // A ring send is sending the front datagram; the rest follow it.
  if (ring_send_in_flight_) return 0;
  while (!queue_.empty() && watcher_.writable()) {
    const Datagram& next = queue_.front();
    if (send_to(fd_.get(), next.data, next.to) >= 0) {
      queued_bytes_ -= next.data.size();
      queue_.pop_front();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
      watcher_.clear_writable();
      break;
    }
    return errno;
  }
  return 0;
}

void UDPEndpoint::on_writable() {
  if (closed_ || queue_.empty()) return;
  if (int error = drain_queue()) {
    error_ = error;
    close();
  }
}

void UDPEndpoint::flush() {
  check_open("flush");
  while (!queue_.empty()) {
    if (watcher_.writable() && !ring_send_in_flight_) {
      if (int error = drain_queue()) {
        error_ = error;
        close();
        check_open("flush");
      }
      continue;
    }
    if (uses_ring() && !ring_send_in_flight_) {
      send_front_on_ring("flush");
      continue;
    }
    if (watcher_.wait_writable() == WaitResult::kDestroyed) raise_destroyed("flush");
    check_open("flush");
  }
}

void UDPEndpoint::set_receive_buffer_size(size_t bytes) {
  if (bytes == 0 || bytes > kMaxIPv6Datagram) {
    throw std::invalid_argument("evergreen: UDPEndpoint::set_receive_buffer_size(" +
                                std::to_string(bytes) +
                                "): the size must be between 1 and 65,527 bytes");
  }
  if (bytes != receive_buffer_size_) receive_buffer_.reset();
  receive_buffer_size_ = bytes;
}

std::pair<std::string, Address> UDPEndpoint::receive() {
  check_open("receive");
  if (!fd_.valid()) raise(ENOTCONN, "receive on a UDP endpoint that was neither bound nor used");
  if (!receive_buffer_) {
    receive_buffer_ = std::make_unique_for_overwrite<char[]>(receive_buffer_size_);
  }
  for (;;) {
    if (watcher_.readable()) {
      SocketAddress from;
      bool truncated = false;
      ssize_t count = internal::receive_datagram(fd_.get(), receive_buffer_.get(),
                                                 receive_buffer_size_, &from, &truncated);
      if (count >= 0) {
        Address source = internal::to_address(from.get(), from.length);
        if (truncated) {
          raise(EMSGSIZE, "receive: a " + std::to_string(count) + "-byte datagram from " +
                              source.to_string() + " is larger than the receive buffer (" +
                              std::to_string(receive_buffer_size_) +
                              " bytes, set_receive_buffer_size) and was dropped");
        }
        return {std::string(receive_buffer_.get(), static_cast<size_t>(count)), std::move(source)};
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) raise(errno, "receive failed");
      watcher_.clear_readable();
    }
    if (uses_ring()) {
      if (std::optional<std::pair<std::string, Address>> datagram = receive_on_ring()) {
        return std::move(*datagram);
      }
      continue;
    }
    evergreen::internal::WaitLabel label("receive");
    if (watcher_.wait_readable() == WaitResult::kDestroyed) raise_destroyed("receive");
    check_open("receive");
  }
}

std::optional<std::pair<std::string, Address>> UDPEndpoint::receive_on_ring() {
  SocketAddress from;
  iovec buffer{receive_buffer_.get(), receive_buffer_size_};
  msghdr message{};
  message.msg_name = from.get();
  message.msg_namelen = sizeof from.storage;
  message.msg_iov = &buffer;
  message.msg_iovlen = 1;
  RingOutcome outcome =
      internal::perform_ring_call(watcher_, {Kind::kRecvMsg, fd_.get(), &message, 0}, "receive");
  if (outcome.state == WaitResult::kDestroyed) raise_destroyed("receive");
  check_open("receive");  // close() waited for the call before it dropped the buffer
  if (outcome.result >= 0) {
    // A datagram that came with a kill or Timeout is returned; the delivery
    // is raised at the next suspension point.
    size_t count = static_cast<size_t>(outcome.result);
    from.length = message.msg_namelen;
    Address source = internal::to_address(from.get(), from.length);
    if ((message.msg_flags & MSG_TRUNC) != 0 || count > receive_buffer_size_) {
      raise(EMSGSIZE, "receive: a " + std::to_string(count) + "-byte datagram from " +
                          source.to_string() + " is larger than the receive buffer (" +
                          std::to_string(receive_buffer_size_) +
                          " bytes, set_receive_buffer_size) and was dropped");
    }
    return std::pair<std::string, Address>(std::string(receive_buffer_.get(), count),
                                           std::move(source));
  }
  internal::raise_if_interrupted(outcome);
  int error = -outcome.result;
  if (error != EAGAIN && error != ECANCELED && error != EINTR) raise(error, "receive failed");
  return std::nullopt;
}

Address UDPEndpoint::sockname() const {
  check_open("sockname");
  if (!fd_.valid()) raise(ENOTCONN, "sockname of a UDP endpoint that was neither bound nor used");
  Address address = internal::local_address(fd_.get());
  if (address.host.empty()) raise(errno, "cannot read the UDP endpoint's sockname");
  return address;
}

}  // namespace evergreen::io
