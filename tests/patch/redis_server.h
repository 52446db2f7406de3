// A real redis-server for the tests: started as a child process on a free
// loopback port, waited for until it accepts connections (bounded), and
// stopped (SIGTERM, then SIGKILL) when destroyed. The child also dies with
// the test process (PR_SET_PDEATHSIG), so even a crashed test leaves none.
#ifndef EVERGREEN_TESTS_PATCH_REDIS_SERVER_H_
#define EVERGREEN_TESTS_PATCH_REDIS_SERVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace evergreen::testing {

class RedisServer {
 public:
  // Throws std::runtime_error (failing the test, never skipping it) if
  // redis-server is not installed or does not come up within 10 s.
  RedisServer() {
    std::string binary = find_binary();
    // The free port may be taken by someone else before redis binds it (tests
    // run in parallel): then redis exits at once, and another port is tried.
    for (int attempt = 1; attempt <= 3; ++attempt) {
      port_ = free_port();
      start(binary);
      if (wait_until_accepting()) return;
    }
    throw std::runtime_error("redis-server exited at start-up three times");
  }

  ~RedisServer() { stop(); }

  uint16_t port() const { return port_; }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    if (!reaped_within(std::chrono::seconds(5))) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

  // A port nothing listens on now (the kernel's pick for an ephemeral bind).
  static uint16_t free_port() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("redis: cannot find a free port");
    }
    close(fd);
    return ntohs(address.sin_port);
  }

 private:
  void start(const std::string& binary) {
    std::string port = std::to_string(port_);
    std::vector<std::string> arguments = {
        binary,         "--port", port,          "--bind", "127.0.0.1",  "--save", "",
        "--appendonly", "no",     "--daemonize", "no",     "--loglevel", "warning"};
    std::vector<char*> argv;
    for (auto& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("redis: fork failed");
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }

  static std::string find_binary() {
    std::vector<std::string> directories;
    if (const char* path = std::getenv("PATH")) {
      std::string list = path;
      size_t start = 0;
      while (start <= list.size()) {
        size_t end = list.find(':', start);
        if (end == std::string::npos) end = list.size();
        directories.push_back(list.substr(start, end - start));
        start = end + 1;
      }
    }
    directories.insert(directories.end(), {"/usr/bin", "/usr/sbin", "/usr/local/bin"});
    for (const std::string& directory : directories) {
      std::string candidate = directory + "/redis-server";
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    throw std::runtime_error(
        "redis-server is not installed: ./bazelw installs Debian's redis-server package");
  }

  bool reaped_within(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // True once the server accepts a connection; false if it exited (its port
  // was taken). Throws std::runtime_error after 10 s.
  bool wait_until_accepting() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(port_);
      bool answered = false;
      if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        // Our redis, not whoever else might hold the port: it answers PING.
        timeval timeout{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        char reply[8] = {};
        answered = write(fd, "PING\r\n", 6) == 6 && read(fd, reply, 7) == 7 &&
                   std::string(reply, 7) == "+PONG\r\n";
      }
      close(fd);
      if (answered) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    throw std::runtime_error("redis-server did not accept connections within 10 s");
  }

  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_PATCH_REDIS_SERVER_H_
