// The echo server on every core: a LoopGroup with one loop per CPU, in one of
// the two ways connections can be spread over the loops.
//
//   ./bazelw run //examples:echo_server_multicore -- --mode=reuse_port 1234
//   ./bazelw run //examples:echo_server_multicore -- --mode=balanced --threads=4 1234
//   ./bazelw run //examples:echo_client -- 127.0.0.1 1234 hello world
//
// --mode=reuse_port: one TCPServer per loop, all bound to the port with
//   BindOptions{.reuse_port = true}; the kernel hashes each connection to one
//   of them. No hop between threads; best for many short connections.
// --mode=balanced: one BalancedTCPServer accepts on the main thread and hands
//   each connection to the loop with the fewest live connections; best when
//   connections are long-lived or uneven.
// Ctrl-C stops the group (closing every connection) and the program ends.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "evergreen/io/balanced_tcp_server.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/loop_group.h"
#include "evergreen/loop/task.h"

using namespace evergreen;

// Every line a client sends comes back to it. Runs on the loop that got the
// connection.
void echo(std::shared_ptr<io::StreamConnection> connection) {
  for (;;) {
    std::string line = connection->read_until("\n");
    if (line.empty()) return;
    connection->write(line);
  }
}

int usage(const char* program) {
  std::fprintf(stderr, "usage: %s [--mode=reuse_port|balanced] [--threads=N] [port]\n", program);
  return 2;
}

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string mode = "reuse_port";
  size_t threads = 0;  // one per CPU
  int port = 1234;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--mode=")) {
      mode = arg.substr(7);
    } else if (arg.starts_with("--threads=")) {
      threads = std::strtoul(argv[i] + 10, nullptr, 10);
    } else if (!arg.starts_with("-")) {
      port = std::atoi(argv[i]);
    } else {
      return usage(argv[0]);
    }
  }
  if ((mode != "reuse_port" && mode != "balanced") || port <= 0 || port > 65535) {
    return usage(argv[0]);
  }
  io::Address address{"0.0.0.0", static_cast<uint16_t>(port)};

  LoopGroup group(threads, LoopGroupOptions{.pin_threads = true, .name = "echo"});
  std::printf("%zu loops, mode %s, port %d\n", group.size(), mode.c_str(), port);
  if (mode == "reuse_port") {
    group.post_each([address](size_t i) {
      io::TCPServer server(echo);
      try {
        server.bind(address, io::BindOptions{.reuse_port = true});
      } catch (const io::TCPError& error) {
        std::fprintf(stderr, "loop %zu: %s\n", i, error.what());
        return;
      }
      server.serve();  // until the group stops
    });
    // The main thread's loop only waits for Ctrl-C; stopping the group ends
    // every server and connection with its loop.
    for (int signum : {SIGINT, SIGTERM}) {
      EventLoop::current().add_signal_handler(signum, [&] {
        group.stop();
        EventLoop::current().stop();
      });
    }
    EventLoop::current().run_forever();
  } else {
    io::BalancedTCPServer server(group, echo);
    try {
      server.bind(address);
    } catch (const io::TCPError& error) {
      std::fprintf(stderr, "%s\n", error.what());
      return 1;
    }
    for (int signum : {SIGINT, SIGTERM}) {
      EventLoop::current().add_signal_handler(signum, [&] {
        server.close();
        group.stop();
      });
    }
    server.serve();  // accepts on the main thread until close()
  }
  group.stop();
  group.join();
  std::printf("stopped\n");
  return 0;
}
