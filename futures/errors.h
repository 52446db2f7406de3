// evergreen/futures/errors.h
//
// The errors futures raise on their own behalf (a call's own exception is
// re-thrown as it was). Both derive from std::runtime_error, so a
// `catch (const std::exception&)` sees them; a kill (TaskExit) or a Timeout
// delivered to a waiting task is never turned into one of these.
#ifndef EVERGREEN_FUTURES_ERRORS_H_
#define EVERGREEN_FUTURES_ERRORS_H_

#include <stdexcept>
#include <string>

namespace evergreen::futures {

// Raised by get() on a future whose call was cancelled before it started.
class CancelledError : public std::runtime_error {
 public:
  CancelledError() : std::runtime_error("evergreen: the future was cancelled") {}
  explicit CancelledError(const std::string& what) : std::runtime_error(what) {}
};

// Raised when a future's result, or the next item of as_completed() or
// Executor::map(), is not ready before the timeout given to the call.
class TimeoutError : public std::runtime_error {
 public:
  TimeoutError() : std::runtime_error("evergreen: timed out waiting for a future") {}
  explicit TimeoutError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace evergreen::futures

#endif  // EVERGREEN_FUTURES_ERRORS_H_
