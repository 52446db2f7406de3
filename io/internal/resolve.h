// From an Address to the socket addresses to try: the address itself for an
// IP literal (no DNS), otherwise every address the resolver finds for the
// name, in the resolver's order. Errors are raised as the caller's error type
// so that, say, TCPClient::connect() throws TCPError for a name that does not
// exist (its code() still in dns_category()).
#ifndef EVERGREEN_IO_INTERNAL_RESOLVE_H_
#define EVERGREEN_IO_INTERNAL_RESOLVE_H_

#include <string>
#include <vector>

#include "evergreen/io/address.h"
#include "evergreen/io/internal/raise.h"
#include "evergreen/io/internal/socket_address.h"

namespace evergreen::io::internal {

// Blocks the caller while a name resolves. `context` starts the error
// message ("cannot connect to example.com:80"). Throws the `kind` error:
// EINVAL for a malformed literal, the DNS status when resolution fails.
std::vector<SocketAddress> resolve_endpoint(const Address& target, ErrorKind kind,
                                            const std::string& context);

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_RESOLVE_H_
