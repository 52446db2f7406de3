// evergreen/io/address.h
//
// Address: a host and a port, the way every evergreen::io call names a socket
// endpoint: `{"127.0.0.1", 8080}`, `{"::1", 0}`, `{"example.com", 443}`.
// The host is an IPv4 or IPv6 literal, or (where the call says so: connect,
// bind, UDP send) a host name resolved cooperatively with c-ares. Port 0 binds
// an ephemeral port; sockname() tells which.
#ifndef EVERGREEN_IO_ADDRESS_H_
#define EVERGREEN_IO_ADDRESS_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace evergreen::io {

struct Address {
  std::string host;
  uint16_t port = 0;

  // Address::to_string()
  //
  // "127.0.0.1:80", "[::1]:80" (IPv6 hosts in brackets), "example.com:80".
  // A host already written in brackets ({"[::1]", 80}, which every call
  // accepts as the IPv6 literal ::1) is not bracketed twice.
  std::string to_string() const;

  // Address::parse()
  //
  // Reads what to_string() writes: "host:port", "1.2.3.4:80", "[::1]:80"
  // (the IPv6 host is kept without brackets). The port is decimal, 0-65535.
  // Throws std::invalid_argument quoting `text` when the port is missing, not
  // a number or out of range, the host is empty, or an IPv6 host with a port
  // is not in brackets. The host is not resolved or otherwise checked.
  static Address parse(std::string_view text);

  friend bool operator==(const Address&, const Address&) = default;
};

inline std::ostream& operator<<(std::ostream& out, const Address& address) {
  return out << address.to_string();
}

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_ADDRESS_H_
