#include "evergreen/io/address.h"

namespace evergreen::io {

std::string Address::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace evergreen::io
