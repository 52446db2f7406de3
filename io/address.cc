#include "evergreen/io/address.h"

#include <stdexcept>

namespace evergreen::io {

std::string Address::to_string() const {
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (!bracketed && host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

namespace {

[[noreturn]] void reject(std::string_view text, const char* why) {
  throw std::invalid_argument("evergreen: Address::parse(\"" + std::string(text) + "\"): " + why);
}

}  // namespace

Address Address::parse(std::string_view text) {
  std::string_view host;
  std::string_view rest;  // what follows the host: ":port"
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) reject(text, "no ']' after the IPv6 host");
    host = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    if (rest.empty()) reject(text, "no port (\"[host]:port\")");
    if (rest.front() != ':') reject(text, "expected ':' and a port after ']'");
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) reject(text, "no port (\"host:port\")");
    host = text.substr(0, colon);
    rest = text.substr(colon);
    if (host.find(':') != std::string_view::npos) {
      reject(text, "an IPv6 host with a port must be in brackets (\"[::1]:80\")");
    }
  }
  if (host.empty()) reject(text, "empty host");
  std::string_view digits = rest.substr(1);
  if (digits.empty()) reject(text, "no port after ':'");
  unsigned long port = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') reject(text, "the port is not a decimal number");
    port = port * 10 + static_cast<unsigned long>(c - '0');
    if (port > 65535) reject(text, "the port is out of range (0-65535)");
  }
  return Address{std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace evergreen::io
