// The echo benchmark's evergreen server: the seed's echo server (one task per
// connection, read_until("\n") then write), on one loop thread.
//
//   echo_server_evergreen --port=0 --cpu=0
//
// Prints "port N" once listening; SIGTERM or SIGINT closes it.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "bench/echo_common.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/event_loop.h"

using namespace evergreen;

class EchoServer : public io::TCPServer {
 public:
  void handle_connection(std::shared_ptr<io::StreamConnection> connection) override {
    for (;;) {
      std::string line = connection->read_until("\n");
      if (line.empty()) break;
      connection->write(line);
    }
  }
};

int main(int argc, char** argv) {
  bench::pin_to_cpu(bench::flag_number(argc, argv, "cpu", -1));
  EchoServer server;
  server.bind({"127.0.0.1", static_cast<uint16_t>(bench::flag_number(argc, argv, "port", 0))});
  std::printf("port %u\n", server.sockname().port);
  std::fflush(stdout);
  EventLoop::current().add_signal_handler(SIGTERM, [&] { server.close(); });
  EventLoop::current().add_signal_handler(SIGINT, [&] { server.close(); });
  server.serve(1024);
  return 0;
}
