// The OpenSSL library context that evergreen's TLS contexts are made in.
//
// OpenSSL 3.0 parses every certificate's public key through its decoder
// framework, and setting up a decoder walks every decoder of the library
// context, with a lock and a name lookup per comparison: on a TLS client that
// is the single largest cost of a handshake (the peer's certificate is parsed
// each time), about twice the X25519 key exchange. Certificates only ever need
// the decoders from DER SubjectPublicKeyInfo, 12 of the default provider's 40.
//
// tls_library_context() returns a process-wide library context whose one
// provider forwards every algorithm of OpenSSL's default provider (the same
// implementations, running in the default library context) except that it
// lists only those decoders. Files (certificates, keys, CA bundles) are still
// loaded in the default library context; only the SSL_CTX and what it parses
// during handshakes use this one.
//
// It returns nullptr, and TLS contexts use the default library context as
// before, whenever that context has any provider other than "default"
// available (a FIPS provider, a PKCS#11 provider, the legacy one, anything
// configured in openssl.cnf or loaded by the program), or when the program
// asked for FIPS algorithms by default: those choices must keep applying. The
// check is made on every call, so a provider loaded later makes later TLS
// contexts use the default library context.
#ifndef EVERGREEN_IO_INTERNAL_TLS_LIBRARY_CONTEXT_H_
#define EVERGREEN_IO_INTERNAL_TLS_LIBRARY_CONTEXT_H_

#include <openssl/types.h>

namespace evergreen::io::internal {

// The library context for new SSL_CTXs, or nullptr for OpenSSL's default one.
OSSL_LIB_CTX* tls_library_context();

}  // namespace evergreen::io::internal

#endif  // EVERGREEN_IO_INTERNAL_TLS_LIBRARY_CONTEXT_H_
