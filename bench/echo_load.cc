// The echo benchmark's load generator: N persistent connections, each
// sending a fixed-size request (ending in '\n') and waiting for the whole
// echo before sending the next, for a given time. Raw epoll on one thread,
// pinned to its own CPU, in a process of its own.
//
//   echo_load --port=N [--host=127.0.0.1] [--connections=100] [--size=64]
//             [--seconds=10] [--warmup=1] [--cpu=1] [--server-pid=PID]
//
// Prints one line: requests per second over the measured period and, with
// --server-pid, the server's CPU time per request (from /proc/PID/stat), the
// figure that shows what a request costs the server even when the load
// generator is the bottleneck.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/echo_common.h"

namespace {

using Clock = std::chrono::steady_clock;

// utime + stime of `pid` in seconds, or -1.
double process_cpu_seconds(long pid) {
  if (pid <= 0) return -1;
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  size_t end_of_name = text.rfind(')');
  if (end_of_name == std::string::npos) return -1;
  std::istringstream fields(text.substr(end_of_name + 2));
  std::string field;
  double ticks = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14 || index == 15) ticks += std::stod(field);  // utime, stime
    if (index == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
         usage.ru_stime.tv_usec / 1e6;
}

struct Connection {
  int fd = -1;
  size_t received = 0;  // bytes of the current echo
};

}  // namespace

int main(int argc, char** argv) {
  using evergreen::bench::flag;
  using evergreen::bench::flag_number;
  evergreen::bench::pin_to_cpu(flag_number(argc, argv, "cpu", 1));
  std::string host = flag(argc, argv, "host", "127.0.0.1");
  long port = flag_number(argc, argv, "port", 0);
  long connection_count = flag_number(argc, argv, "connections", 100);
  size_t size = static_cast<size_t>(flag_number(argc, argv, "size", 64));
  double seconds = static_cast<double>(flag_number(argc, argv, "seconds", 10));
  double warmup = static_cast<double>(flag_number(argc, argv, "warmup", 1));
  long server_pid = flag_number(argc, argv, "server-pid", 0);
  if (port <= 0 || size < 1 || size > 4096) {
    std::fprintf(stderr, "usage: %s --port=N [--connections=100] [--size=64] ...\n", argv[0]);
    return 2;
  }

  std::string message(size - 1, 'x');
  message += '\n';
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &address.sin_addr);

  int poller = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Connection> connections(static_cast<size_t>(connection_count));
  for (size_t i = 0; i < connections.size(); ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      std::perror("connect");
      return 1;
    }
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    connections[i].fd = fd;
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    epoll_ctl(poller, EPOLL_CTL_ADD, fd, &event);
  }
  for (Connection& connection : connections) {
    if (write(connection.fd, message.data(), size) != static_cast<ssize_t>(size)) {
      std::perror("write");
      return 1;
    }
  }

  Clock::time_point start = Clock::now();
  Clock::time_point measure_from =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  Clock::time_point end = measure_from + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(seconds));
  bool measuring = false;
  long long completed = 0;
  double server_cpu_start = 0, own_cpu_start = 0;
  Clock::time_point measured_start;
  epoll_event events[256];
  char buffer[4096];
  for (;;) {
    Clock::time_point now = Clock::now();
    if (!measuring && now >= measure_from) {
      measuring = true;
      completed = 0;
      measured_start = now;
      server_cpu_start = process_cpu_seconds(server_pid);
      own_cpu_start = own_cpu_seconds();
    }
    if (now >= end) break;
    int count = epoll_wait(poller, events, 256, 100);
    for (int i = 0; i < count; ++i) {
      Connection& connection = connections[events[i].data.u64];
      ssize_t received = read(connection.fd, buffer, sizeof buffer);
      if (received <= 0) {
        if (received < 0 && errno == EAGAIN) continue;
        std::fprintf(stderr, "the server closed a connection\n");
        return 1;
      }
      connection.received += static_cast<size_t>(received);
      if (connection.received < size) continue;
      connection.received -= size;
      ++completed;
      if (write(connection.fd, message.data(), size) != static_cast<ssize_t>(size)) {
        std::perror("write");
        return 1;
      }
    }
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - measured_start).count();
  double server_cpu = process_cpu_seconds(server_pid) - server_cpu_start;
  double own_cpu = own_cpu_seconds() - own_cpu_start;
  std::printf("requests_per_second=%.0f requests=%lld", completed / elapsed, completed);
  if (server_pid > 0) {
    std::printf(" server_cpu_us_per_request=%.2f server_cpu_share=%.2f",
                server_cpu * 1e6 / static_cast<double>(completed), server_cpu / elapsed);
  }
  std::printf(" load_cpu_us_per_request=%.2f load_cpu_share=%.2f\n",
              own_cpu * 1e6 / static_cast<double>(completed), own_cpu / elapsed);
  for (Connection& connection : connections) close(connection.fd);
  return 0;
}
