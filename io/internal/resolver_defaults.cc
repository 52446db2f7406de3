#include "evergreen/io/internal/resolver_defaults.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace evergreen::io::internal {
namespace {

// Whether one whitespace-separated list of options names `option`, alone
// ("rotate") or with a value ("timeout:2").
bool list_names(std::string_view options, std::string_view option) {
  constexpr std::string_view kBlanks = " \t\r";
  for (size_t start = options.find_first_not_of(kBlanks); start != std::string_view::npos;) {
    const size_t end = std::min(options.find_first_of(kBlanks, start), options.size());
    const std::string_view word = options.substr(start, end - start);
    if (word == option || (word.size() > option.size() && word.substr(0, option.size()) == option &&
                           word[option.size()] == ':')) {
      return true;
    }
    start = options.find_first_not_of(kBlanks, end);
  }
  return false;
}

}  // namespace

bool names_resolver_option(std::string_view resolv_conf, std::string_view res_options,
                           std::string_view option) {
  if (list_names(res_options, option)) return true;
  for (size_t start = 0; start < resolv_conf.size();) {
    const size_t end = std::min(resolv_conf.find('\n', start), resolv_conf.size());
    std::string_view line = resolv_conf.substr(start, end - start);
    start = end + 1;
    line = line.substr(0, line.find_first_of("#;"));
    constexpr std::string_view kOptions = "options";
    if (line.substr(0, kOptions.size()) != kOptions) continue;
    std::string_view rest = line.substr(kOptions.size());
    if (rest.empty() || (rest[0] != ' ' && rest[0] != '\t')) continue;  // "optionsx"
    if (list_names(rest, option)) return true;
  }
  return false;
}

bool system_sets_resolver_option(std::string_view option) {
  std::string resolv_conf;
  if (std::ifstream file("/etc/resolv.conf"); file) {
    std::ostringstream text;
    text << file.rdbuf();
    resolv_conf = text.str();
  }
  const char* res_options = std::getenv("RES_OPTIONS");
  return names_resolver_option(resolv_conf, res_options != nullptr ? res_options : "", option);
}

}  // namespace evergreen::io::internal
