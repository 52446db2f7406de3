#include "evergreen/sync/channel.h"

namespace evergreen::internal {

void throw_channel_closed() { throw ChannelClosed(); }

void rethrow_sent_exception(std::exception_ptr error) { std::rethrow_exception(std::move(error)); }

}  // namespace evergreen::internal
