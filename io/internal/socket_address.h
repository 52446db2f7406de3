// SocketAddress: the kernel's form of an Address (sockaddr_in/in6/un), and the
// conversions between the two. Literal parsing never touches DNS.
#ifndef EVERGREEN_IO_INTERNAL_SOCKET_ADDRESS_H_
#define EVERGREEN_IO_INTERNAL_SOCKET_ADDRESS_H_

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

#include "evergreen/io/address.h"

namespace evergreen::io::internal {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

// The address for an IPv4 or IPv6 literal host (brackets around IPv6 and a
// "%scope" suffix are accepted; "" means the IPv4 wildcard), or nullopt when
// `host` is not a literal.
std::optional<SocketAddress> parse_ip_literal(std::string_view host, uint16_t port);

// Whether `host` looks like an IP literal but is not a valid one
// ("999.1.1.1", "1.2.3", "::g"): such hosts are rejected rather than sent to DNS.
bool malformed_ip_literal(std::string_view host);

// The Address of an AF_INET/AF_INET6 socket address (host in canonical text),
// or of an AF_UNIX one (the path as host, "" when unnamed, port 0).
Address to_address(const sockaddr* address, socklen_t length);

// A Unix-domain address for `path`; nullopt when the path is empty or too long.
std::optional<SocketAddress> unix_address(std::string_view path);

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_SOCKET_ADDRESS_H_
