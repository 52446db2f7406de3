// The seed's echo server, for tests: every line a client sends comes back.
#ifndef EVERGREEN_TESTS_IO_ECHO_SERVER_H_
#define EVERGREEN_TESTS_IO_ECHO_SERVER_H_

#include <memory>
#include <string>

#include "evergreen/io/stream.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/task.h"

namespace evergreen::testing {

// Echoes lines on `connection` until the peer closes it.
inline void echo_lines(io::StreamConnection& connection) {
  for (;;) {
    std::string line = connection.read_until("\n");
    if (line.empty()) break;
    connection.write(line);
  }
}

class EchoServer : public io::TCPServer {
 public:
  void handle_connection(std::shared_ptr<io::StreamConnection> connection) override {
    echo_lines(*connection);
  }
};

// An echo server on an ephemeral loopback port, served by a task while the
// object lives.
struct RunningEcho {
  explicit RunningEcho(int backlog = 128) {
    server.bind({"127.0.0.1", 0});
    serving = spawn([this, backlog] { server.serve(backlog); });
    sleep(std::chrono::seconds(0));  // let it start serving
  }
  ~RunningEcho() {
    server.close();
    serving->join(std::chrono::seconds(5));
  }
  io::Address address() const { return server.sockname(); }
  EchoServer server;
  std::shared_ptr<Task> serving;
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_IO_ECHO_SERVER_H_
