// SO_REUSEPORT for BindOptions::reuse_port, set before bind().
#ifndef EVERGREEN_IO_INTERNAL_REUSE_PORT_H_
#define EVERGREEN_IO_INTERNAL_REUSE_PORT_H_

namespace evergreen::io::internal {

// Lets other sockets that ask for it too bind the same address and port.
// Returns 0 or an errno value.
int enable_reuse_port(int fd);

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_REUSE_PORT_H_
