// TlsCerts: the certificates the TLS tests use, made at run time with the
// `openssl` command-line tool in a temporary directory (EC P-256 keys, so
// making them takes milliseconds):
// - ca: a CA the tests trust explicitly (never in the system store);
// - server: CN=localhost, SANs DNS:localhost and IP:127.0.0.1, from ca;
// - wrong_host: CN=other.example, SAN DNS:other.example only, from ca;
// - expired: like server, but its validity ended before it began;
// - alt: CN=alt.example, SAN DNS:alt.example, from ca (SNI selection);
// - client: CN=client, from ca (a client certificate);
// - rogue_client: CN=rogue, from a CA nobody trusts.
// Made once per test binary (std::call_once); aborts the test binary with the
// command that failed if the tool is missing or fails.
#ifndef EVERGREEN_TESTS_IO_TLS_CERTS_H_
#define EVERGREEN_TESTS_IO_TLS_CERTS_H_

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/temp_dir.h"

namespace evergreen::testing {

class TlsCerts {
 public:
  struct Pair {
    std::string cert;
    std::string key;
  };

  static const TlsCerts& get() {
    static const TlsCerts certs;  // removed when the test binary exits
    return certs;
  }

  std::string dir;
  Pair ca, server, wrong_host, expired, alt, client, rogue_ca, rogue_client;
  std::string garbage;  // a file that is not PEM

 private:
  TlsCerts() : temp_("tls_certs") {
    dir = temp_.path();
    ca = self_signed("ca", "/CN=evergreen test CA");
    rogue_ca = self_signed("rogue_ca", "/CN=rogue CA");
    server = issued("server", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", ca, 30, 2);
    wrong_host = issued("wrong_host", "/CN=other.example", "DNS:other.example", ca, 30, 3);
    expired = issued("expired", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", ca, -1, 4);
    alt = issued("alt", "/CN=alt.example", "DNS:alt.example", ca, 30, 5);
    client = issued("client", "/CN=client", "DNS:client", ca, 30, 6);
    rogue_client = issued("rogue_client", "/CN=rogue", "DNS:rogue", rogue_ca, 30, 7);
    garbage = temp_.file("garbage.pem");
    std::ofstream(garbage) << "this is not a certificate\n";
  }

  static void run(const std::string& command) {
    std::string quiet = command + " >/dev/null 2>&1";
    if (std::system(quiet.c_str()) != 0) {
      std::fprintf(stderr, "TlsCerts: failed (is the openssl tool installed?): %s\n",
                   command.c_str());
      std::abort();
    }
  }

  Pair self_signed(const std::string& name, const std::string& subject) {
    Pair pair{temp_.file(name + ".pem"), temp_.file(name + ".key")};
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj '" +
        subject + "' -keyout " + pair.key + " -out " + pair.cert);
    return pair;
  }

  Pair issued(const std::string& name, const std::string& subject, const std::string& sans,
              const Pair& issuer, int days, int serial) {
    Pair pair{temp_.file(name + ".pem"), temp_.file(name + ".key")};
    std::string request = temp_.file(name + ".csr");
    std::string extensions = temp_.file(name + ".ext");
    std::ofstream(extensions) << "subjectAltName=" << sans << "\n";
    run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '" + subject +
        "' -keyout " + pair.key + " -out " + request);
    // -days -1: valid until a day before it was issued, i.e. expired.
    run("openssl x509 -req -in " + request + " -CA " + issuer.cert + " -CAkey " + issuer.key +
        " -set_serial " + std::to_string(serial) + " -days " + std::to_string(days) +
        " -extfile " + extensions + " -out " + pair.cert);
    return pair;
  }

  TempDir temp_;
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_IO_TLS_CERTS_H_
