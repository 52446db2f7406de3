// A connected TCP pair over loopback for stream tests: `client` and the
// server's side of the same connection, `accepted`. Made inside a task of the
// test's loop; the constructor returns once the server has accepted. The
// client is held by pointer so a test can destroy it while other tasks still
// use the pair.
#ifndef EVERGREEN_TESTS_IO_TCP_PAIR_H_
#define EVERGREEN_TESTS_IO_TCP_PAIR_H_

#include <chrono>
#include <memory>

#include "evergreen/io/tcp.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/event.h"
#include "gtest/gtest.h"

namespace evergreen::testing {

struct TcpPair {
  io::TCPServer server;
  std::shared_ptr<io::StreamConnection> accepted;
  std::unique_ptr<io::TCPClient> client = std::make_unique<io::TCPClient>();
  std::shared_ptr<Task> serving;
  Event arrived;

  TcpPair()
      : server([this](std::shared_ptr<io::StreamConnection> connection) {
          accepted = connection;
          arrived.set();
        }) {
    server.bind({"127.0.0.1", 0});
    serving = spawn([this] { server.serve(); });
    client->connect(server.sockname());
    EXPECT_TRUE(arrived.wait(std::chrono::seconds(5))) << "the server never accepted";
  }
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_IO_TCP_PAIR_H_
