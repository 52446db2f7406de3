#include "evergreen/io/tty.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "evergreen/io/internal/fd_ops.h"

namespace evergreen::io {

using internal::ErrorKind;
using internal::UniqueFd;

namespace {

// A descriptor for the same terminal with a file description of its own, so
// O_NONBLOCK on it does not leak into the caller's fd (or other processes
// sharing it). Null when the terminal cannot be reopened.
UniqueFd reopen_terminal(int fd, bool readable) {
  char name[PATH_MAX];
  if (ttyname_r(fd, name, sizeof name) != 0) return UniqueFd();
  int mode = readable ? O_RDWR : O_WRONLY;
  return UniqueFd(::open(name, mode | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
}

}  // namespace

TTYStream::TTYStream(int fd, bool readable) : BaseStream(ErrorKind::kTTY), readable_(readable) {
  std::string context = "cannot open fd " + std::to_string(fd) + " as a TTY stream";
  is_terminal_ = ::isatty(fd) == 1;
  UniqueFd own = is_terminal_ ? reopen_terminal(fd, readable) : UniqueFd();
  if (!own) {
    // Not a terminal, or one we may not reopen: share the description and
    // put its flags back when done.
    own.reset(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
    if (!own) raise(errno, context);
    int previous = 0;
    if (int error = internal::set_nonblocking(own.get(), true, &previous)) raise(error, context);
    restore_flags_ = previous;
  }
  internal::FdTraits traits;
  if (int error = internal::describe_fd(own.get(), &traits)) raise(error, context);
  if (!readable) set_write_only();
  open_fd(std::move(own), traits);
}

TTYStream::~TTYStream() { restore_terminal(); }

void TTYStream::on_close() { restore_terminal(); }

void TTYStream::restore_terminal() {
  int fd = fileno();
  if (fd < 0) return;
  if (saved_mode_) {
    tcsetattr(fd, TCSANOW, &*saved_mode_);
    saved_mode_.reset();
  }
  if (restore_flags_) {
    internal::restore_flags(fd, *restore_flags_);
    restore_flags_.reset();
  }
}

WindowSize TTYStream::winsize() const {
  check_not_closed("winsize");
  struct winsize size {};
  if (::ioctl(fileno(), TIOCGWINSZ, &size) != 0) {
    raise(errno, "winsize: fd " + std::to_string(fileno()) + " is not a terminal");
  }
  return WindowSize{size.ws_col, size.ws_row};
}

void TTYStream::set_raw_mode(bool enable) {
  check_not_closed("set_raw_mode");
  int fd = fileno();
  if (enable) {
    if (saved_mode_) return;
    termios mode{};
    if (tcgetattr(fd, &mode) != 0) raise(errno, "set_raw_mode: fd is not a terminal");
    termios raw = mode;
    cfmakeraw(&raw);
    if (tcsetattr(fd, TCSANOW, &raw) != 0) raise(errno, "set_raw_mode");
    saved_mode_ = mode;
  } else {
    if (!is_terminal_) raise(ENOTTY, "set_raw_mode: fd is not a terminal");
    if (!saved_mode_) return;
    if (tcsetattr(fd, TCSANOW, &*saved_mode_) != 0) raise(errno, "set_raw_mode");
    saved_mode_.reset();
  }
}

}  // namespace evergreen::io
