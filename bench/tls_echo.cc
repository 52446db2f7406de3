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
// Each part also prints its rate per CPU second of this process (user + system
// time, getrusage): on a shared, loaded machine the wall-clock rate measures
// the share of the CPU the process got as much as its own cost, while the
// rate per CPU second does not. bench/go/tls_echo prints the same lines.
//
// --echo=0, --bulk=0 or --handshakes=0 leave that part out (to profile one).
// bench/run_tls_compare.sh runs this beside Go's crypto/tls
// (bench/go/tls_echo) with the same certificate, TLS version and cipher.
//
// Makes a throwaway certificate with the `openssl` tool.
#include <stdlib.h>
#include <sys/resource.h>
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

// The name the client sends (SNI) and verifies (a DNS SAN), as Go's client
// does with ServerName "localhost"; connecting by address alone would verify
// the IP SAN instead and send no SNI.
constexpr const char* kServerName = "localhost";

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

// User + system CPU time of the whole process so far.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// What one part counted, over how much wall-clock and CPU time.
struct Measured {
  double count = 0;
  double wall_seconds = 0;
  double cpu_seconds = 0;
  double per_second() const { return count / wall_seconds; }
  double per_cpu_second() const { return count / cpu_seconds; }
};

// Starts both clocks; stop() fills in the elapsed times.
class Stopwatch {
 public:
  Stopwatch() : wall_start_(Clock::now()), cpu_start_(cpu_seconds()) {}
  double wall() const { return seconds_since(wall_start_); }
  Measured stop(double count) const {
    return Measured{count, seconds_since(wall_start_), cpu_seconds() - cpu_start_};
  }

 private:
  Clock::time_point wall_start_;
  double cpu_start_;
};

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
  client->connect(server, *context, kServerName);
  return client;
}

template <class Client>
Measured echo_rate(const io::Address& server, const io::TLSContext* context, int connections,
                   double seconds) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < connections; ++i) clients.push_back(connect_client<Client>(server, context));
  const std::string message(64, 'm');
  long requests = 0;
  bool stop = false;
  std::vector<std::shared_ptr<Task>> tasks;
  Stopwatch stopwatch;
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
  return stopwatch.stop(static_cast<double>(requests));
}

template <class Client>
Measured bulk_rate(const io::Address& server, const io::TLSContext* context, long megabytes) {
  auto client = connect_client<Client>(server, context);
  const std::string chunk(1 << 20, 'b');
  Stopwatch stopwatch;
  auto writer = spawn([&] {
    for (long i = 0; i < megabytes; ++i) client->write(chunk);
    client->shutdown();
  });
  long received = 0;
  for (std::string data; !(data = client->read_bytes(1 << 16)).empty();) received += data.size();
  writer->join();
  return stopwatch.stop(received / 1e6);
}

Measured handshake_rate(const io::Address& server, const io::TLSContext& context, double seconds) {
  long handshakes = 0;
  Stopwatch stopwatch;
  while (stopwatch.wall() < seconds) {
    io::TLSClient client;
    client.connect(server, context, kServerName);
    client.write("x");
    client.read_bytes(1);
    ++handshakes;
  }
  return stopwatch.stop(static_cast<double>(handshakes));
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
    Measured tcp = echo_rate<io::TCPClient>(tcp_server.sockname(), nullptr, connections, seconds);
    Measured tls =
        echo_rate<io::TLSClient>(tls_server.sockname(), &client_context, connections, seconds);
    std::printf("echo (%d connections, 64 B): TCP %.0f req/s, TLS %.0f req/s (%.2fx)\n",
                connections, tcp.per_second(), tls.per_second(),
                tls.per_second() / tcp.per_second());
    std::printf("echo per CPU second: TCP %.0f req/cpu-s, TLS %.0f req/cpu-s\n",
                tcp.per_cpu_second(), tls.per_cpu_second());
  }
  if (run_bulk) {
    Measured tcp = bulk_rate<io::TCPClient>(tcp_server.sockname(), nullptr, megabytes);
    Measured tls = bulk_rate<io::TLSClient>(tls_server.sockname(), &client_context, megabytes);
    std::printf("bulk (%ld MB echoed): TCP %.0f MB/s, TLS %.0f MB/s (%.2fx)\n", megabytes,
                tcp.per_second(), tls.per_second(), tls.per_second() / tcp.per_second());
    std::printf("bulk per CPU second: TCP %.0f MB/cpu-s, TLS %.0f MB/cpu-s\n", tcp.per_cpu_second(),
                tls.per_cpu_second());
  }
  if (run_handshakes) {
    Measured handshakes = handshake_rate(tls_server.sockname(), client_context, seconds);
    std::printf("handshakes (TLS 1.3, P-256, both ends on this thread): %.0f /s\n",
                handshakes.per_second());
    std::printf("handshakes per CPU second: %.0f /cpu-s\n", handshakes.per_cpu_second());
  }

  tls_server.close();
  tcp_server.close();
  serving_tls->join();
  serving_tcp->join();
  return 0;
}
