// A client for the echo server: sends lines, prints what comes back.
//
//   echo_client [host] [port] [line...]
//
// With lines on the command line it sends those; otherwise it sends what it
// reads from standard input (cooperatively, through StdinStream) until end of
// input. The host may be a name ("localhost") or an IPv4/IPv6 literal.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "evergreen/io/tcp.h"
#include "evergreen/io/tty.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"

using namespace std::chrono_literals;

using namespace evergreen;

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string host = argc > 1 ? argv[1] : "127.0.0.1";
  int port = argc > 2 ? std::atoi(argv[2]) : 1234;
  std::vector<std::string> lines(argv + std::min(argc, 3), argv + argc);

  io::TCPClient client;
  try {
    Timeout deadline(10s);
    client.connect({host, static_cast<uint16_t>(port)});
  } catch (const io::TCPError& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  } catch (const Timeout&) {
    std::fprintf(stderr, "timed out connecting to %s:%d\n", host.c_str(), port);
    return 1;
  }
  std::printf("connected to %s from %s\n", client.peername().to_string().c_str(),
              client.sockname().to_string().c_str());

  // One task prints the echoes while this context sends.
  int echoed = 0;
  auto printer = spawn([&] {
    try {
      for (;;) {
        std::string echo = client.read_until("\n");
        if (echo.empty()) break;
        std::printf("echo: %s", echo.c_str());
        ++echoed;
      }
    } catch (const io::TCPError& error) {
      std::fprintf(stderr, "%s\n", error.what());
    }
  });

  int sent = 0;
  try {
    if (!lines.empty()) {
      for (const std::string& line : lines) {
        client.write(line + "\n");
        ++sent;
      }
    } else {
      io::StdinStream input;
      for (;;) {
        std::string line = input.read_until("\n");
        if (line.empty()) break;
        if (line.back() != '\n') line += '\n';
        client.write(line);
        ++sent;
      }
    }
    client.shutdown();  // the server sees end of input and closes after the last echo
  } catch (const io::StreamError& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
  if (!printer->join(10s)) {
    std::fprintf(stderr, "timed out waiting for the echoes\n");
    printer->kill();
    printer->join();
    return 1;
  }
  std::printf("%d lines sent, %d echoed\n", sent, echoed);
  return echoed == sent ? 0 : 1;
}
