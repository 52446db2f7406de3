// TlsContextState: what a TLSContext handle shares among its copies: the
// OpenSSL SSL_CTX that connections are made from, and the settings OpenSSL's
// callbacks read during a handshake (ALPN, the certificates chosen by SNI).
#ifndef EVERGREEN_IO_INTERNAL_TLS_CONTEXT_STATE_H_
#define EVERGREEN_IO_INTERNAL_TLS_CONTEXT_STATE_H_

#include <openssl/ssl.h>

#include <map>
#include <memory>
#include <string>

namespace evergreen::io::internal {

// A certificate chain and its private key, as loaded from PEM files.
struct TlsIdentity {
  TlsIdentity() = default;
  ~TlsIdentity();
  TlsIdentity(const TlsIdentity&) = delete;
  TlsIdentity& operator=(const TlsIdentity&) = delete;

  X509* certificate = nullptr;
  EVP_PKEY* key = nullptr;
  STACK_OF(X509)* chain = nullptr;  // the intermediates after the certificate
};

struct TlsContextState {
  TlsContextState() = default;
  ~TlsContextState();
  TlsContextState(const TlsContextState&) = delete;
  TlsContextState& operator=(const TlsContextState&) = delete;

  SSL_CTX* ctx = nullptr;
  // The OpenSSL library context ctx was made in (tls_library_context.h);
  // nullptr for OpenSSL's default one.
  OSSL_LIB_CTX* library_context = nullptr;
  bool server = false;
  bool verify_peer = false;
  // Server: the ALPN protocols in wire format (length-prefixed), preferred first.
  std::string alpn_wire;
  // Server: the identities chosen by SNI, keyed by the lower-cased host name.
  std::map<std::string, std::unique_ptr<TlsIdentity>> server_names;
};

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_TLS_CONTEXT_STATE_H_
