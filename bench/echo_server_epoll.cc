// The echo benchmark's baseline: a minimal single-threaded echo server on raw
// epoll, as one would write it by hand - level-triggered, one read per
// readiness event, the data written straight back. No framing, no buffering,
// no tasks: the floor of what a request can cost in system calls (epoll_wait
// shared by the batch, then read + write).
//
//   echo_server_epoll --port=0 --cpu=0
//
// Prints "port N" once listening; SIGTERM or SIGINT ends it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>

#include "bench/echo_common.h"

namespace {

volatile std::sig_atomic_t stopping = 0;

void on_signal(int) { stopping = 1; }

// Writes everything, waiting for room if the socket is full (rare with small
// messages: it only keeps the baseline correct).
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t count = write(fd, data, size);
    if (count > 0) {
      data += count;
      size -= static_cast<size_t>(count);
    } else if (count < 0 && (errno == EAGAIN || errno == EINTR)) {
      usleep(10);
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  evergreen::bench::pin_to_cpu(evergreen::bench::flag_number(argc, argv, "cpu", -1));
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int on = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port =
      htons(static_cast<uint16_t>(evergreen::bench::flag_number(argc, argv, "port", 0)));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 1024) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  std::printf("port %u\n", ntohs(address.sin_port));
  std::fflush(stdout);

  int poller = epoll_create1(EPOLL_CLOEXEC);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = listener;
  epoll_ctl(poller, EPOLL_CTL_ADD, listener, &event);

  epoll_event events[256];
  char buffer[4096];
  while (!stopping) {
    int count = epoll_wait(poller, events, 256, -1);
    for (int i = 0; i < count; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        int client;
        while ((client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
          epoll_event watch{};
          watch.events = EPOLLIN;
          watch.data.fd = client;
          epoll_ctl(poller, EPOLL_CTL_ADD, client, &watch);
        }
        continue;
      }
      ssize_t received = read(fd, buffer, sizeof buffer);
      if (received > 0 && write_all(fd, buffer, static_cast<size_t>(received))) continue;
      if (received < 0 && errno == EAGAIN) continue;
      epoll_ctl(poller, EPOLL_CTL_DEL, fd, nullptr);
      close(fd);
    }
  }
  return 0;
}
