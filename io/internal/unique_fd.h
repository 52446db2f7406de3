// UniqueFd: the single owner of a file descriptor, closed when the owner goes
// away (RAII). Move-only.
#ifndef EVERGREEN_IO_INTERNAL_UNIQUE_FD_H_
#define EVERGREEN_IO_INTERNAL_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace evergreen::io::internal {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Closes the current descriptor (if any) and owns `fd` instead. close()'s
  // result is ignored: on Linux the descriptor is gone even when it fails.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_UNIQUE_FD_H_
