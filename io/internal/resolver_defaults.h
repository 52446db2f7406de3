// Which of evergreen's resolver defaults apply: those the system's resolver
// configuration does not set itself. c-ares reads /etc/resolv.conf's
// "options" lines and the RES_OPTIONS environment variable; an option named
// there ("timeout:1", "attempts:3") is the operator's choice and wins over
// evergreen's default, which in turn wins over c-ares' own (5 s, 4 tries).
#ifndef EVERGREEN_IO_INTERNAL_RESOLVER_DEFAULTS_H_
#define EVERGREEN_IO_INTERNAL_RESOLVER_DEFAULTS_H_

#include <string_view>

namespace evergreen::io::internal {

// Whether `option` ("timeout", "attempts") is set in `resolv_conf` (the text
// of a resolv.conf: "options a b:2" lines, '#' and ';' comments) or in
// `res_options` (RES_OPTIONS' value: "a b:2").
bool names_resolver_option(std::string_view resolv_conf, std::string_view res_options,
                           std::string_view option);

// names_resolver_option() over this system's /etc/resolv.conf and RES_OPTIONS.
bool system_sets_resolver_option(std::string_view option);

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_RESOLVER_DEFAULTS_H_
