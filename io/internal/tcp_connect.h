// The connecting half of a TCP client, shared by TCPClient and TLSClient (which
// connects the same way, then handshakes before its stream may carry data).
#ifndef EVERGREEN_IO_INTERNAL_TCP_CONNECT_H_
#define EVERGREEN_IO_INTERNAL_TCP_CONNECT_H_

#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "evergreen/io/address.h"
#include "evergreen/io/internal/io_watcher.h"
#include "evergreen/io/internal/raise.h"
#include "evergreen/io/internal/unique_fd.h"

namespace evergreen::io::internal {

// connect_tcp()
//
// Resolves `target` (cooperatively) and tries its addresses in turn until one
// accepts a non-blocking TCP connection, binding to `source` first when given.
// Returns the connected socket, with `watcher` (the owner's) attached to it;
// the caller hands both to BaseStream::open_fd(). Blocks the calling task;
// honours Timeout and kill. `closed` says whether the owner was closed
// meanwhile (asked only while the owner exists). Throws the `kind` error whose
// message starts with `context` ("cannot connect to 127.0.0.1:1"): the last
// attempt's errno, the DNS status, EBADF (closed()) when the owner was closed
// or destroyed while connecting; std::invalid_argument for an empty host.
UniqueFd connect_tcp(IoWatcher& watcher, const Address& target,
                     const std::optional<Address>& source, bool nodelay, ErrorKind kind,
                     const std::string& context, absl::AnyInvocable<bool()> closed);

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_TCP_CONNECT_H_
