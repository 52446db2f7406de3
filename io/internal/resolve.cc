#include "evergreen/io/internal/resolve.h"

#include <cerrno>

#include "evergreen/io/dns.h"
#include "evergreen/io/errors.h"

namespace evergreen::io::internal {

std::vector<SocketAddress> resolve_endpoint(const Address& target, ErrorKind kind,
                                            const std::string& context) {
  if (auto literal = parse_ip_literal(target.host, target.port)) return {*literal};
  if (malformed_ip_literal(target.host)) {
    raise_error(kind, EINVAL,
                "evergreen: " + context + ": '" + target.host + "' is not a valid IP address");
  }
  std::vector<Address> found;
  try {
    found = getaddrinfo(target.host, target.port);
  } catch (const DNSError& error) {
    raise_error(kind, error.code(),
                "evergreen: " + context + ": cannot resolve host name '" + target.host + "'");
  }
  std::vector<SocketAddress> result;
  result.reserve(found.size());
  for (const Address& address : found) {
    if (auto parsed = parse_ip_literal(address.host, address.port)) result.push_back(*parsed);
  }
  return result;
}

}  // namespace evergreen::io::internal
