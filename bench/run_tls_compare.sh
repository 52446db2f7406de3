#!/usr/bin/env bash
# evergreen's TLS echo benchmark (bench/tls_echo) beside Go's crypto/tls doing
# the same work (bench/go/tls_echo), in one run on this machine (dev-only):
# echo req/s (100 connections, 64-byte messages), bulk MB/s (one connection
# echoing MEGABYTES) and handshakes/s (connect + handshake + one round trip +
# close), each program with client and server on ONE thread pinned to CPU,
# GOMAXPROCS=1. The programs run alternately ROUNDS times so drifting machine
# load touches both alike; prints every run, the medians and the ratios, and
# the load average before and after.
#
# Every rate comes twice: per wall-clock second, and per CPU second of the
# whole process (user + system time of all its threads, getrusage). On a
# shared machine the wall-clock rate also measures how much of the CPU the
# program was given; the rate per CPU second measures only what the work
# cost, and is the one to compare when the load average is above ~1.
#
#   bench/run_tls_compare.sh
#   ROUNDS=5 SECONDS_PER_PART=3 MEGABYTES=256 CPU=1 bench/run_tls_compare.sh
#   BAZEL_OUTPUT_BASE=/tmp/bazel-io bench/run_tls_compare.sh
#   PARTS=handshakes ROUNDS=5 CPU=1 bench/run_tls_compare.sh   # one part only
#
# PARTS (default "echo bulk handshakes") picks the parts both programs run;
# the others are left out of every run and of the medians.
#
# Same protocol on both sides: TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, a
# P-256 ECDSA certificate verified by the client (name "localhost"), no
# session resumption, one session ticket per handshake sent by each server and
# read and dropped by its client (Go's client is given a cache that keeps
# nothing, because without one it does not offer resumption and Go's server
# then sends no ticket, while OpenSSL's client always offers it; Go prints the
# tickets per handshake it saw). Go 1.19 cannot be told its TLS 1.3 suite (it takes
# AES-128-GCM with AES hardware), so evergreen's OpenSSL is pinned to match
# through an OpenSSL config file (OPENSSL_CONF, system_default section) that
# this script writes; the pin is checked with the openssl tool first. Without
# the pin OpenSSL would prefer TLS_AES_256_GCM_SHA384.
#
# Needs Go: installs Debian's golang-go when missing (as bazelw installs
# packages); the normal build and tests never need it.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
SECONDS_PER_PART=${SECONDS_PER_PART:-3}
MEGABYTES=${MEGABYTES:-256}
CONNECTIONS=${CONNECTIONS:-100}
CPU=${CPU:-0}
PARTS=${PARTS:-echo bulk handshakes}

cd "$(dirname "$0")/.."
bazel_flags=()
[[ -n "${BAZEL_OUTPUT_BASE:-}" ]] && bazel_flags+=("--output_base=$BAZEL_OUTPUT_BASE")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source bench/go_program.sh
build_go_program bench/go/tls_echo "$work/go_tls_echo" "$work"
./bazelw "${bazel_flags[@]}" build --config=opt //bench:tls_echo >&2
evergreen_bin="$(./bazelw "${bazel_flags[@]}" info --config=opt bazel-bin 2>/dev/null)/bench/tls_echo"

# The certificate Go uses; bench/tls_echo makes its own with the same command.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1

cat >"$work/openssl.cnf" <<'CONF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_section
[ssl_section]
system_default = pinned_for_the_go_comparison
[pinned_for_the_go_comparison]
MaxProtocol = TLSv1.3
Ciphersuites = TLS_AES_128_GCM_SHA256
Groups = X25519
CONF

# The pin must reach libssl's SSL_CTX_new: an s_server under the config,
# against a default s_client (which prefers AES-256), must agree on AES-128.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
OPENSSL_CONF="$work/openssl.cnf" openssl s_server -accept "127.0.0.1:$port" -naccept 1 -quiet \
  -cert "$work/cert.pem" -key "$work/key.pem" >/dev/null 2>&1 &
server=$!
negotiated=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
  sleep 0.3
  negotiated=$(echo | timeout 5 openssl s_client -connect "127.0.0.1:$port" -brief 2>&1 |
               grep -o 'TLS_[A-Z0-9_]*' | head -1) && [[ -n $negotiated ]] && break
done
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
if [[ $negotiated != TLS_AES_128_GCM_SHA256 ]]; then
  echo "run_tls_compare: the OpenSSL pin did not take (negotiated '${negotiated}')" >&2
  exit 1
fi
echo "== pinned: TLS 1.3 $negotiated X25519, P-256 ECDSA certificate; CPU $CPU; GOMAXPROCS=1"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"

flags=(--seconds="$SECONDS_PER_PART" --megabytes="$MEGABYTES" --connections="$CONNECTIONS")
go_flags=(-seconds="$SECONDS_PER_PART" -megabytes="$MEGABYTES" -connections="$CONNECTIONS")
for part in echo bulk handshakes; do
  if [[ " $PARTS " == *" $part "* ]]; then
    flags+=(--"$part"=1)
    go_flags+=(-"$part"=true)
  else
    flags+=(--"$part"=0)
    go_flags+=(-"$part"=false)
  fi
done
for round in $(seq "$ROUNDS"); do
  echo "-- round $round: evergreen"
  OPENSSL_CONF="$work/openssl.cnf" taskset -c "$CPU" "$evergreen_bin" "${flags[@]}" |
    tee -a "$work/evergreen.txt"
  echo "-- round $round: go"
  GOMAXPROCS=1 taskset -c "$CPU" "$work/go_tls_echo" -cert="$work/cert.pem" -key="$work/key.pem" \
    "${go_flags[@]}" | tee -a "$work/go.txt"
done

echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$work/evergreen.txt" "$work/go.txt" <<'PY'
import re, statistics, sys
patterns = {
    "echo TLS req/s": r"^echo .*TLS ([0-9.]+) req/s",
    "echo TCP req/s": r"^echo .*TCP ([0-9.]+) req/s",
    "bulk TLS MB/s": r"^bulk .*TLS ([0-9.]+) MB/s",
    "bulk TCP MB/s": r"^bulk .*TCP ([0-9.]+) MB/s",
    "handshakes/s": r"^handshakes .*: ([0-9.]+) /s",
    "echo TLS req/cpu-s": r"^echo per CPU .*TLS ([0-9.]+) req/cpu-s",
    "echo TCP req/cpu-s": r"^echo per CPU .*TCP ([0-9.]+) req/cpu-s",
    "bulk TLS MB/cpu-s": r"^bulk per CPU .*TLS ([0-9.]+) MB/cpu-s",
    "bulk TCP MB/cpu-s": r"^bulk per CPU .*TCP ([0-9.]+) MB/cpu-s",
    "handshakes/cpu-s": r"^handshakes per CPU .*: ([0-9.]+) /cpu-s",
}
def medians(path):
    text = open(path).read()
    found = {name: [float(v) for v in re.findall(p, text, re.M)] for name, p in patterns.items()}
    return {name: statistics.median(values) for name, values in found.items() if values}
ours, go = medians(sys.argv[1]), medians(sys.argv[2])
print("\n== medians (%s)" % "evergreen / go = ratio, >1 means evergreen is faster")
for name in patterns:
    if name not in ours or name not in go:
        continue  # a part PARTS left out
    print(f"{name:19} evergreen {ours[name]:10.0f}   go {go[name]:10.0f}   ratio {ours[name] / go[name]:.2f}x")
PY
