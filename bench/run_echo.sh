#!/usr/bin/env bash
# The echo benchmark: evergreen's echo server, once on each backend (io_uring
# and epoll, through EVERGREEN_BACKEND), against a minimal raw-epoll echo
# server and Go's net echo server (GOMAXPROCS=1), each on one thread pinned to
# CPU 0, loaded by bench/echo_load pinned to CPU 1 (100 persistent connections,
# 64-byte request/response messages). The servers run alternately, ROUNDS
# times each, so drifting machine load touches all of them alike.
#
#   bench/run_echo.sh                       # 2 rounds of 10 s each
#   ROUNDS=3 SECONDS_PER_ROUND=5 bench/run_echo.sh
#   BAZEL_OUTPUT_BASE=/tmp/bazel-io bench/run_echo.sh
#
# Prints each run, then the mean requests per second per server and the
# server CPU time per request (the cost of a request to the server, which
# stays meaningful even when the load generator saturates its CPU first).
# Needs Go for the Go server: installed from Debian (golang-go) when missing;
# SKIP_GO=1 runs without it.
set -euo pipefail

ROUNDS=${ROUNDS:-2}
SECONDS_PER_ROUND=${SECONDS_PER_ROUND:-10}
CONNECTIONS=${CONNECTIONS:-100}
SIZE=${SIZE:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}

cd "$(dirname "$0")/.."
bazel_flags=()
[[ -n "${BAZEL_OUTPUT_BASE:-}" ]] && bazel_flags+=("--output_base=$BAZEL_OUTPUT_BASE")

echo "== building (--config=opt)" >&2
./bazelw "${bazel_flags[@]}" build --config=opt \
  //bench:echo_server_evergreen //bench:echo_server_epoll //bench:echo_load >&2
bin="$(./bazelw "${bazel_flags[@]}" info --config=opt bazel-bin 2>/dev/null)/bench"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

servers=(evergreen-io_uring evergreen-epoll epoll)
if [[ "${SKIP_GO:-0}" != 1 ]]; then
  echo "== building bench/go_echo (standard library only, offline)" >&2
  source bench/go_program.sh
  build_go_program bench/go_echo "$work/go_echo" "$work"
  servers+=(go)
fi

start_server() {  # $1: name; sets $pid and $port
  local out="$work/server.out"
  : >"$out"
  case "$1" in
    evergreen-io_uring | evergreen-epoll)
      EVERGREEN_BACKEND=${1#evergreen-} taskset -c "$SERVER_CPU" "$bin/echo_server_evergreen" \
        --port=0 >"$out" &
      ;;
    epoll) taskset -c "$SERVER_CPU" "$bin/echo_server_epoll" --port=0 >"$out" & ;;
    go) GOMAXPROCS=1 taskset -c "$SERVER_CPU" "$work/go_echo" -port=0 >"$out" & ;;
  esac
  pid=$!
  for _ in $(seq 100); do
    grep -q '^port ' "$out" && break
    sleep 0.05
  done
  port=$(awk '/^port /{print $2}' "$out")
  [[ -n "$port" ]] || { echo "the $1 server did not start" >&2; exit 1; }
}

echo "== load: $CONNECTIONS connections x $SIZE-byte messages, $SECONDS_PER_ROUND s per run, $ROUNDS rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A total_rps total_cpu
for round in $(seq "$ROUNDS"); do
  for server in "${servers[@]}"; do
    start_server "$server"
    result=$("$bin/echo_load" --port="$port" --connections="$CONNECTIONS" --size="$SIZE" \
      --seconds="$SECONDS_PER_ROUND" --warmup=1 --cpu="$LOAD_CPU" --server-pid="$pid")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    printf "round %d  %-18s %s\n" "$round" "$server" "$result"
    rps=$(sed -E 's/.*requests_per_second=([0-9.]+).*/\1/' <<<"$result")
    cpu=$(sed -E 's/.*server_cpu_us_per_request=([0-9.]+).*/\1/' <<<"$result")
    total_rps[$server]=$(awk -v a="${total_rps[$server]:-0}" -v b="$rps" 'BEGIN{print a+b}')
    total_cpu[$server]=$(awk -v a="${total_cpu[$server]:-0}" -v b="$cpu" 'BEGIN{print a+b}')
  done
done

echo "== mean over $ROUNDS rounds"
for server in "${servers[@]}"; do
  awk -v s="$server" -v r="${total_rps[$server]}" -v c="${total_cpu[$server]}" -v n="$ROUNDS" \
    'BEGIN{printf "%-18s %10.0f req/s   %6.2f us server CPU per request\n", s, r/n, c/n}'
done
for backend in io_uring epoll; do
  awk -v b="$backend" -v e="${total_rps[evergreen-$backend]}" -v p="${total_rps[epoll]}" \
    -v ec="${total_cpu[evergreen-$backend]}" -v pc="${total_cpu[epoll]}" \
    'BEGIN{printf "evergreen (%s) / raw epoll: %.2fx the requests per second, %.2fx the server CPU per request\n", b, e/p, ec/pc}'
  if [[ -n "${total_rps[go]:-}" ]]; then
    awk -v b="$backend" -v e="${total_rps[evergreen-$backend]}" -v g="${total_rps[go]}" \
      'BEGIN{printf "evergreen (%s) / go: %.1f%% of the requests per second\n", b, 100*e/g}'
  fi
done
