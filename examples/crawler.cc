// The seed's crawler: a pool of 100 tasks fetches URLs with plain, blocking
// libcurl - code that knows nothing about evergreen - and patch() makes the
// fetches overlap.
//
//   ./bazelw run //examples:crawler               # patched: the fetches overlap
//   ./bazelw run //examples:crawler -- --no-patch # the same crawl, unpatched
//
// The pages come from a small evergreen HTTP server the program starts on a
// loopback port, in a thread of its own (unpatched, a blocking fetch holds the
// crawler's whole thread, so a server sharing it could never answer). Each
// page takes 100 ms to arrive: without patch() the fetches run one after
// another; with it they all wait at once.
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "evergreen/futures/executor.h"
#include "evergreen/io/tcp.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/patch/patch.h"

using namespace std::chrono_literals;

using namespace evergreen;

namespace {

constexpr int kPages = 20;
constexpr auto kPageDelay = 100ms;

// Serves /page/N: a body of 1000 + 37 * N bytes, after kPageDelay.
class PageServer {
 public:
  PageServer() {
    std::promise<uint16_t> bound;
    std::future<uint16_t> port = bound.get_future();
    thread_ = std::thread([this, &bound] {
      EventLoop loop;
      io::TCPServer server([](std::shared_ptr<io::StreamConnection> connection) {
        std::string request = connection->read_until("\r\n\r\n");
        if (request.empty()) return;
        size_t start = request.find("/page/");
        int page = start == std::string::npos ? 0 : std::atoi(request.c_str() + start + 6);
        sleep(kPageDelay);
        std::string body(1000 + 37 * static_cast<size_t>(page), 'x');
        connection->write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\nConnection: close\r\n\r\n" + body);
        connection->flush();
      });
      server.bind({"127.0.0.1", 0});
      loop_ = &loop;
      server_ = &server;
      bound.set_value(server.sockname().port);
      server.serve();  // until stop() closes it
    });
    port_ = port.get();
  }

  ~PageServer() {
    loop_->call_from_thread([server = server_] { server->close(); });
    thread_.join();
  }

  std::string url(int page) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/page/" + std::to_string(page);
  }

 private:
  std::thread thread_;
  EventLoop* loop_ = nullptr;
  io::TCPServer* server_ = nullptr;
  uint16_t port_ = 0;
};

size_t append(char* data, size_t size, size_t count, void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

// Plain blocking libcurl, as any C program would call it.
std::string fetch(const std::string& url) {
  std::string body;
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
  CURLcode result = curl_easy_perform(easy);
  curl_easy_cleanup(easy);
  if (result != CURLE_OK) {
    throw std::runtime_error(url + ": " + curl_easy_strerror(result));
  }
  return body;
}

}  // namespace

int main(int argc, char** argv) {
  bool patched = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-patch") == 0) {
      patched = false;
    } else {
      std::fprintf(stderr, "usage: %s [--no-patch]\n", argv[0]);
      return 2;
    }
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  PageServer server;
  std::vector<std::string> urls;
  for (int page = 0; page < kPages; ++page) urls.push_back(server.url(page));

  if (patched) patch::patch();
  auto start = std::chrono::steady_clock::now();
  {
    futures::TaskPoolExecutor executor(100);
    for (const std::string& body : executor.map(fetch, urls)) {
      std::printf("got body %zu\n", body.size());
    }
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %d pages of %lld ms each in %.3f s\n", patched ? "patched" : "not patched",
              kPages, static_cast<long long>(kPageDelay.count()), elapsed);
  curl_global_cleanup();
  return 0;
}
