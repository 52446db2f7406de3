// evergreen/io/errno.h
//
// errno helpers: the symbolic name of an error number ("ECONNREFUSED") and
// its description ("Connection refused"). Both are thread-safe and never
// throw; an unknown number gets a made-up but stable text.
#ifndef EVERGREEN_IO_ERRNO_H_
#define EVERGREEN_IO_ERRNO_H_

#include <string>

namespace evergreen::io {

// errno_name()
//
// The symbolic name of `error`, e.g. errno_name(ECONNREFUSED) ==
// "ECONNREFUSED"; "E<number>" for a number the C library does not know.
std::string errno_name(int error);

// strerror()
//
// The C library's description of `error`, e.g. "Connection refused"
// (thread-safe, unlike ::strerror).
std::string strerror(int error);

}  // namespace evergreen::io

#endif  // EVERGREEN_IO_ERRNO_H_
