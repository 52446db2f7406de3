#include "evergreen/io/balanced_tcp_server.h"

#include <atomic>
#include <stdexcept>
#include <utility>

#include "evergreen/io/errors.h"
#include "evergreen/loop/timeout.h"

namespace evergreen::io {

struct BalancedTCPServer::LiveCounts {
  explicit LiveCounts(size_t loops) : counts(loops) {}
  std::vector<std::atomic<size_t>> counts;
};

namespace {

// One live connection counted on its loop: released exactly once, when the
// connection object is destroyed, or with the hand-off if it never got that
// far (the group stopped before the loop started it).
class LiveMark {
 public:
  LiveMark(std::shared_ptr<BalancedTCPServer::LiveCounts> live, size_t loop)
      : live_(std::move(live)), loop_(loop) {
    live_->counts[loop_].fetch_add(1, std::memory_order_relaxed);
  }
  LiveMark(LiveMark&&) noexcept = default;
  LiveMark& operator=(LiveMark&&) = delete;
  ~LiveMark() {
    if (live_ != nullptr) live_->counts[loop_].fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  std::shared_ptr<BalancedTCPServer::LiveCounts> live_;
  size_t loop_;
};

// Runs on the chosen loop: wraps the socket and runs the handler, as
// StreamServer does for its own connections.
void serve_handed_over(const BalancedTCPServer::Handler& handler, internal::UniqueFd fd,
                       LiveMark mark) {
  auto counted = std::make_shared<LiveMark>(std::move(mark));
  std::shared_ptr<StreamConnection> connection(
      new TCPConnection(std::move(fd)), [counted](StreamConnection* connection) mutable {
        delete connection;
        counted.reset();  // now, not when the last weak reference goes
      });
  try {
    handler(connection);
    if (!connection->closed() && connection->pending_output() > 0 &&
        connection.use_count() == 1) {
      try {
        Timeout deadline(StreamServer::kDefaultLinger);
        connection->flush();
      } catch (const Timeout&) {
      } catch (const StreamError&) {
      }
    }
  } catch (const StreamError&) {
    // The client went away: that ends the connection, not a failure.
    if (!connection->closed()) throw;
  }
}

}  // namespace

BalancedTCPServer::BalancedTCPServer(LoopGroup& group, Handler handler)
    : group_(group),
      handler_(std::make_shared<const Handler>(std::move(handler))),
      live_(std::make_shared<LiveCounts>(group.size())) {}

std::vector<size_t> BalancedTCPServer::live_connections() const {
  std::vector<size_t> counts;
  for (const auto& count : live_->counts) counts.push_back(count.load(std::memory_order_relaxed));
  return counts;
}

void BalancedTCPServer::on_accepted(internal::UniqueFd fd) {
  size_t chosen = 0;
  size_t fewest = live_->counts[0].load(std::memory_order_relaxed);
  for (size_t i = 1; i < live_->counts.size(); ++i) {
    size_t count = live_->counts[i].load(std::memory_order_relaxed);
    if (count < fewest) {
      fewest = count;
      chosen = i;
    }
  }
  // Counted before the hand-off, so the next accept already sees it.
  LiveMark mark(live_, chosen);
  try {
    group_.post(chosen, [handler = handler_, fd = std::move(fd), mark = std::move(mark)]() mutable {
      serve_handed_over(*handler, std::move(fd), std::move(mark));
    });
  } catch (const std::runtime_error&) {
    // The group was stopped: nobody can serve the connection; the refused
    // function took the socket with it and closed it.
  }
}

}  // namespace evergreen::io
