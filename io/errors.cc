#include "evergreen/io/errors.h"

#include <ares.h>

namespace evergreen::io {
namespace {

class DnsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "dns"; }
  std::string message(int status) const override { return ares_strerror(status); }
};

}  // namespace

const std::error_category& dns_category() {
  static const DnsCategory category;
  return category;
}

bool DNSError::not_found() const {
  return code().category() == dns_category() &&
         (code().value() == ARES_ENOTFOUND || code().value() == ARES_ENODATA);
}

bool DNSError::timed_out() const {
  return code().category() == dns_category() && code().value() == ARES_ETIMEOUT;
}

}  // namespace evergreen::io
