// TLS against plain TCP in one process on one loop (client and server tasks
// share the thread, so every figure is the whole cost of both ends):
// - echo: 100 persistent connections, 64-byte request/response messages, for
//   --seconds each; requests per second over TLS and over TCP;
// - bulk: one connection streaming --megabytes one way; MB/s over each;
// - handshakes: connect + handshake + one round trip + close, one after
//   another, for --seconds; handshakes per second (TLS 1.3, P-256 certificate).
//
//   ./bazelw run --config=opt //bench:tls_echo -- --seconds=3 --cpu=0
//
// --echo=0, --bulk=0 or --handshakes=0 leave that part out (to profile one).
// bench/run_tls_compare.sh runs this beside Go's crypto/tls
// (bench/go/tls_echo) with the same certificate, TLS version and cipher.
//
// Makes a throwaway certificate with the `openssl` tool.
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/echo_common.h"
#include "evergreen/io/tcp.h"
#include "evergreen/io/tls.h"
#include "evergreen/loop/task.h"

using namespace evergreen;
using Clock = std::chrono::steady_clock;

namespace {

struct Certificate {
  std::string dir, cert, key;
  Certificate() {
    char pattern[] = "/tmp/tls_echo_bench.XXXXXX";
    dir = mkdtemp(pattern);
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "tls_echo: cannot make a certificate with the openssl tool\n");
      std::exit(1);
    }
  }
  ~Certificate() {
    ::unlink(cert.c_str());
    ::unlink(key.c_str());
    ::rmdir(dir.c_str());
  }
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void echo_handler(std::shared_ptr<io::StreamConnection> connection) {
  for (std::string data; !(data = connection->read_bytes(1 << 16)).empty();) {
    connection->write(data);
  }
}

// A client stream of either kind, connected to `server`.
template <class Client>
std::unique_ptr<Client> connect_client(const io::Address& server, const io::TLSContext* context);

template <>
std::unique_ptr<io::TCPClient> connect_client(const io::Address& server, const io::TLSContext*) {
  auto client = std::make_unique<io::TCPClient>();
  client->connect(server);
  return client;
}

template <>
std::unique_ptr<io::TLSClient> connect_client(const io::Address& server,
                                              const io::TLSContext* context) {
  auto client = std::make_unique<io::TLSClient>();
  client->connect(server, *context);
  return client;
}

template <class Client>
double echo_rate(const io::Address& server, const io::TLSContext* context, int connections,
                 double seconds) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < connections; ++i) clients.push_back(connect_client<Client>(server, context));
  const std::string message(64, 'm');
  long requests = 0;
  bool stop = false;
  std::vector<std::shared_ptr<Task>> tasks;
  Clock::time_point start = Clock::now();
  for (auto& client : clients) {
    tasks.push_back(spawn([&, stream = client.get()] {
      while (!stop) {
        stream->write(message);
        size_t got = 0;
        while (got < message.size()) got += stream->read_bytes(message.size() - got).size();
        ++requests;
      }
    }));
  }
  sleep(std::chrono::milliseconds(static_cast<long>(seconds * 1000)));
  stop = true;
  for (auto& task : tasks) task->join();
  return requests / seconds_since(start);
}

template <class Client>
double bulk_rate(const io::Address& server, const io::TLSContext* context, long megabytes) {
  auto client = connect_client<Client>(server, context);
  const std::string chunk(1 << 20, 'b');
  Clock::time_point start = Clock::now();
  auto writer = spawn([&] {
    for (long i = 0; i < megabytes; ++i) client->write(chunk);
    client->shutdown();
  });
  long received = 0;
  for (std::string data; !(data = client->read_bytes(1 << 16)).empty();) received += data.size();
  writer->join();
  return received / 1e6 / seconds_since(start);
}

double handshake_rate(const io::Address& server, const io::TLSContext& context, double seconds) {
  long handshakes = 0;
  Clock::time_point start = Clock::now();
  while (seconds_since(start) < seconds) {
    io::TLSClient client;
    client.connect(server, context);
    client.write("x");
    client.read_bytes(1);
    ++handshakes;
  }
  return handshakes / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = bench::flag_number(argc, argv, "seconds", 3);
  long megabytes = bench::flag_number(argc, argv, "megabytes", 256);
  int connections = static_cast<int>(bench::flag_number(argc, argv, "connections", 100));
  bench::pin_to_cpu(bench::flag_number(argc, argv, "cpu", -1));
  bool run_echo = bench::flag_number(argc, argv, "echo", 1) != 0;
  bool run_bulk = bench::flag_number(argc, argv, "bulk", 1) != 0;
  bool run_handshakes = bench::flag_number(argc, argv, "handshakes", 1) != 0;
  Certificate certificate;

  io::TLSServer tls_server(io::TLSContext::server(certificate.cert, certificate.key), echo_handler);
  tls_server.bind({"127.0.0.1", 0});
  io::TCPServer tcp_server(echo_handler);
  tcp_server.bind({"127.0.0.1", 0});
  auto serving_tls = spawn([&] { tls_server.serve(1024); });
  auto serving_tcp = spawn([&] { tcp_server.serve(1024); });
  io::TLSContext client_context = io::TLSContext::client();
  client_context.load_verify_locations(certificate.cert);

  if (run_echo) {
    double tcp_echo =
        echo_rate<io::TCPClient>(tcp_server.sockname(), nullptr, connections, seconds);
    double tls_echo =
        echo_rate<io::TLSClient>(tls_server.sockname(), &client_context, connections, seconds);
    std::printf("echo (%d connections, 64 B): TCP %.0f req/s, TLS %.0f req/s (%.2fx)\n",
                connections, tcp_echo, tls_echo, tls_echo / tcp_echo);
  }
  if (run_bulk) {
    double tcp_bulk = bulk_rate<io::TCPClient>(tcp_server.sockname(), nullptr, megabytes);
    double tls_bulk = bulk_rate<io::TLSClient>(tls_server.sockname(), &client_context, megabytes);
    std::printf("bulk (%ld MB echoed): TCP %.0f MB/s, TLS %.0f MB/s (%.2fx)\n", megabytes,
                tcp_bulk, tls_bulk, tls_bulk / tcp_bulk);
  }
  if (run_handshakes) {
    double handshakes = handshake_rate(tls_server.sockname(), client_context, seconds);
    std::printf("handshakes (TLS 1.3, P-256, both ends on this thread): %.0f /s\n", handshakes);
  }

  tls_server.close();
  tcp_server.close();
  serving_tls->join();
  serving_tcp->join();
  return 0;
}
