// A TLS echo server and a client for it, talking over loopback.
//
//   bazel run //examples:tls_echo                  # makes a throwaway certificate
//   bazel run //examples:tls_echo -- cert.pem key.pem
//
// Without arguments it makes a self-signed certificate for localhost and
// 127.0.0.1 with the `openssl` tool in a temporary directory. The client
// trusts exactly that certificate (load_verify_locations) and verifies the
// server's name against it, as TLSContext::client() always does.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "evergreen/io/tls.h"
#include "evergreen/loop/task.h"

using namespace evergreen;

namespace {

// A self-signed certificate (its own CA) in a fresh temporary directory.
bool make_certificate(std::string* cert, std::string* key) {
  char directory[] = "/tmp/tls_echo.XXXXXX";
  if (mkdtemp(directory) == nullptr) return false;
  *cert = std::string(directory) + "/cert.pem";
  *key = std::string(directory) + "/key.pem";
  std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      *key + " -out " + *cert + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cert, key;
  if (argc == 3) {
    cert = argv[1];
    key = argv[2];
  } else if (!make_certificate(&cert, &key)) {
    std::fprintf(stderr, "tls_echo: cannot make a certificate (is the openssl tool installed?)\n");
    return 1;
  }

  io::TLSContext server_context = io::TLSContext::server(cert, key);
  server_context.set_alpn({"echo/1"});
  io::TLSServer server(server_context, [](std::shared_ptr<io::StreamConnection> connection) {
    auto tls = std::static_pointer_cast<io::TLSConnection>(connection);
    std::printf("server: %s connected (ALPN \"%s\")\n", tls->peername().to_string().c_str(),
                tls->alpn_protocol().c_str());
    for (std::string line; !(line = connection->read_until("\n")).empty();) {
      connection->write(line);
    }
  });
  server.bind({"127.0.0.1", 0});
  auto serving = spawn([&] { server.serve(); });

  io::TLSContext client_context = io::TLSContext::client();
  client_context.load_verify_locations(cert);  // trust our own certificate
  client_context.set_alpn({"echo/1"});
  io::TLSClient client;
  client.connect(server.sockname(), client_context, "localhost");
  std::printf("client: connected to %s, certificate %s, ALPN \"%s\"\n",
              client.peername().to_string().c_str(), client.peer_certificate_subject().c_str(),
              client.alpn_protocol().c_str());
  for (const char* line : {"hello\n", "encrypted\n", "world\n"}) {
    client.write(line);
    std::printf("client: echoed %s", client.read_until("\n").c_str());
  }
  client.shutdown();  // close_notify: the server's handler sees end of stream
  client.close();
  server.close();
  serving->join();
  if (argc != 3) {
    ::unlink(cert.c_str());
    ::unlink(key.c_str());
    ::rmdir(cert.substr(0, cert.rfind('/')).c_str());
  }
  std::printf("tls_echo: ok\n");
  return 0;
}
