#include "evergreen/io/errno.h"

#include <string.h>

namespace evergreen::io {

std::string errno_name(int error) {
  // glibc >= 2.32; returns null for numbers it does not know.
  if (const char* name = ::strerrorname_np(error)) return name;
  return "E" + std::to_string(error);
}

std::string strerror(int error) {
  // strerror_l would need a locale object; strerrordesc_np is glibc's
  // thread-safe, untranslated table (null when unknown).
  if (const char* text = ::strerrordesc_np(error)) return text;
  return "Unknown error " + std::to_string(error);
}

}  // namespace evergreen::io
