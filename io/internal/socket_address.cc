#include "evergreen/io/internal/socket_address.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace evergreen::io::internal {

std::optional<SocketAddress> parse_ip_literal(std::string_view host, uint16_t port) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  SocketAddress result;
  if (host.empty()) host = "0.0.0.0";
  // inet_pton needs a terminated string; INET6_ADDRSTRLEN plus a scope fits.
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  if (host.size() >= sizeof text) return std::nullopt;
  std::memcpy(text, host.data(), host.size());
  text[host.size()] = '\0';

  auto* v4 = reinterpret_cast<sockaddr_in*>(&result.storage);
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    result.length = sizeof(sockaddr_in);
    return result;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&result.storage);
  uint32_t scope = 0;
  if (char* percent = std::strchr(text, '%')) {
    *percent = '\0';
    const char* zone = percent + 1;
    scope = if_nametoindex(zone);
    if (scope == 0) {
      char* end = nullptr;
      unsigned long number = std::strtoul(zone, &end, 10);
      if (*zone == '\0' || *end != '\0') return std::nullopt;
      scope = static_cast<uint32_t>(number);
    }
  }
  if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    v6->sin6_scope_id = scope;
    result.length = sizeof(sockaddr_in6);
    return result;
  }
  return std::nullopt;
}

bool malformed_ip_literal(std::string_view host) {
  if (host.empty()) return false;
  if (host.find(':') != std::string_view::npos) return true;  // names never contain ':'
  // All digits and dots: meant as IPv4 (no top-level domain is numeric).
  for (char c : host) {
    if (c != '.' && (c < '0' || c > '9')) return false;
  }
  return true;
}

Address to_address(const sockaddr* address, socklen_t length) {
  char text[INET6_ADDRSTRLEN];
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    return Address{text, ntohs(v4->sin_port)};
  }
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return Address{text, ntohs(v6->sin6_port)};
  }
  if (address->sa_family == AF_UNIX) {
    // The path, port 0. An unnamed socket (most clients) has none: "". An
    // abstract one (a leading NUL) is written with '@', as ss(8) does.
    const auto* un = reinterpret_cast<const sockaddr_un*>(address);
    size_t offset = offsetof(sockaddr_un, sun_path);
    if (length <= offset) return Address{};
    size_t size = std::min<size_t>(length - offset, sizeof un->sun_path);
    if (un->sun_path[0] == '\0') return Address{"@" + std::string(un->sun_path + 1, size - 1), 0};
    return Address{std::string(un->sun_path, strnlen(un->sun_path, size)), 0};
  }
  return Address{};
}

std::optional<SocketAddress> unix_address(std::string_view path) {
  SocketAddress result;
  auto* un = reinterpret_cast<sockaddr_un*>(&result.storage);
  if (path.empty() || path.size() >= sizeof(un->sun_path)) return std::nullopt;
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  result.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return result;
}

}  // namespace evergreen::io::internal
