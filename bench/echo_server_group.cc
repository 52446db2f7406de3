// The multi-loop echo benchmark's server: the same echo handler as
// echo_server_evergreen, on the loops of a LoopGroup. One listener on the
// main thread's loop hands each accepted connection to the group loop with
// the fewest live ones (io::BalancedTCPServer), so the connections' reads
// and writes all run on the group's threads.
//
//   echo_server_group --port=0 --loops=2
//
// Prints "port N" once listening; SIGTERM or SIGINT closes it. Run by
// bench/run_echo_loops.sh, which compares the server CPU per request of one
// loop against two.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "bench/echo_common.h"
#include "evergreen/io/balanced_tcp_server.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/loop_group.h"

using namespace evergreen;

int main(int argc, char** argv) {
  long loops = bench::flag_number(argc, argv, "loops", 2);
  if (loops < 1) {
    std::fprintf(stderr, "echo_server_group: --loops must be at least 1, not %ld\n", loops);
    return 2;
  }
  LoopGroup group(static_cast<size_t>(loops), LoopGroupOptions{.pin_threads = true});
  io::BalancedTCPServer server(group, [](std::shared_ptr<io::StreamConnection> connection) {
    for (;;) {
      std::string line = connection->read_until("\n");
      if (line.empty()) break;
      connection->write(line);
    }
  });
  server.bind({"127.0.0.1", static_cast<uint16_t>(bench::flag_number(argc, argv, "port", 0))});
  std::printf("port %u\n", server.sockname().port);
  std::fflush(stdout);
  EventLoop::current().add_signal_handler(SIGTERM, [&] { server.close(); });
  EventLoop::current().add_signal_handler(SIGINT, [&] { server.close(); });
  server.serve(1024);
  return 0;
}
