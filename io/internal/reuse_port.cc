#include "evergreen/io/internal/reuse_port.h"

#include <sys/socket.h>

#include <cerrno>

namespace evergreen::io::internal {

int enable_reuse_port(int fd) {
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) return errno;
  return 0;
}

}  // namespace evergreen::io::internal
