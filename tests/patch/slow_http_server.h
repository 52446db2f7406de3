// A minimal HTTP/1.1 server for the tests, an evergreen io::TCPServer on a
// loopback port: every request for /<path> is answered, after `delay`, with
// the body "body of /<path>" and Connection: close.
#ifndef EVERGREEN_TESTS_PATCH_SLOW_HTTP_SERVER_H_
#define EVERGREEN_TESTS_PATCH_SLOW_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "evergreen/io/errors.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/task.h"

namespace evergreen::testing {

class SlowHttpServer {
 public:
  explicit SlowHttpServer(Duration delay)
      : server_([delay](std::shared_ptr<io::StreamConnection> connection) {
          serve_one(*connection, delay);
        }) {
    server_.bind({"127.0.0.1", 0});
    serving_ = spawn([this] {
      try {
        server_.serve();
      } catch (const io::StreamError&) {
        // Closed before it began serving.
      }
    });
  }
  ~SlowHttpServer() { close(); }

  // "http://127.0.0.1:<port>"
  std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(server_.sockname().port);
  }
  uint16_t port() const { return server_.sockname().port; }

  void close() {
    if (closed_) return;
    closed_ = true;
    server_.close();
    serving_->join();
  }

  static std::string body_for(const std::string& path) { return "body of " + path; }

 private:
  static void serve_one(io::StreamConnection& connection, Duration delay) {
    try {
      std::string request = connection.read_until("\r\n\r\n");
      if (request.empty()) return;
      size_t start = request.find(' ') + 1;
      std::string path = request.substr(start, request.find(' ', start) - start);
      sleep(delay);
      std::string body = body_for(path);
      connection.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
      connection.flush();
      connection.close();
    } catch (const io::StreamError&) {
      // The client went away, or the server is closing.
    }
  }

  io::TCPServer server_;
  std::shared_ptr<Task> serving_;
  bool closed_ = false;
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_PATCH_SLOW_HTTP_SERVER_H_
