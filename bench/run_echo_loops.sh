#!/usr/bin/env bash
# The multi-loop echo benchmark: bench/echo_server_group on one loop and on
# two (a LoopGroup, pinned one thread per CPU), loaded by bench/echo_load
# (100 persistent connections, 64-byte messages). On this 2-core machine the
# load generator shares the cores with the server, so requests per second say
# little; the figure that matters is the server's CPU time per request, which
# should grow by no more than 10% from one loop to two (what a second loop
# costs: cross-thread hand-off of each connection once, a second poller, and
# cache lines the loops share). The two runs alternate, ROUNDS times each.
#
#   bench/run_echo_loops.sh
#   ROUNDS=5 SECONDS_PER_ROUND=5 EVERGREEN_BACKEND=epoll bench/run_echo_loops.sh
set -euo pipefail

ROUNDS=${ROUNDS:-3}
SECONDS_PER_ROUND=${SECONDS_PER_ROUND:-5}
CONNECTIONS=${CONNECTIONS:-100}
SIZE=${SIZE:-64}

cd "$(dirname "$0")/.."
echo "== building (--config=opt)" >&2
./bazelw build --config=opt //bench:echo_server_group //bench:echo_load >&2
bin="$(./bazelw info --config=opt bazel-bin 2>/dev/null)/bench"

work=$(mktemp -d)
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== $CONNECTIONS connections x $SIZE-byte messages, $SECONDS_PER_ROUND s per run, $ROUNDS rounds; backend ${EVERGREEN_BACKEND:-auto}; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A total_rps total_cpu
for round in $(seq "$ROUNDS"); do
  for loops in 1 2; do
    : >"$work/server.out"
    "$bin/echo_server_group" --port=0 --loops="$loops" >"$work/server.out" &
    pid=$!
    for _ in $(seq 100); do
      grep -q '^port ' "$work/server.out" && break
      sleep 0.05
    done
    port=$(awk '/^port /{print $2}' "$work/server.out")
    [[ -n "$port" ]] || { echo "the $loops-loop server did not start" >&2; exit 1; }
    result=$("$bin/echo_load" --port="$port" --connections="$CONNECTIONS" --size="$SIZE" \
      --seconds="$SECONDS_PER_ROUND" --warmup=1 --cpu=-1 --server-pid="$pid")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
    printf "round %d  %d loop(s)  %s\n" "$round" "$loops" "$result"
    rps=$(sed -E 's/.*requests_per_second=([0-9.]+).*/\1/' <<<"$result")
    cpu=$(sed -E 's/.*server_cpu_us_per_request=([0-9.]+).*/\1/' <<<"$result")
    total_rps[$loops]=$(awk -v a="${total_rps[$loops]:-0}" -v b="$rps" 'BEGIN{print a+b}')
    total_cpu[$loops]=$(awk -v a="${total_cpu[$loops]:-0}" -v b="$cpu" 'BEGIN{print a+b}')
  done
done

echo "== mean over $ROUNDS rounds; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
for loops in 1 2; do
  awk -v l="$loops" -v r="${total_rps[$loops]}" -v c="${total_cpu[$loops]}" -v n="$ROUNDS" \
    'BEGIN{printf "%d loop(s)  %10.0f req/s   %6.2f us server CPU per request\n", l, r/n, c/n}'
done
awk -v one="${total_cpu[1]}" -v two="${total_cpu[2]}" \
  'BEGIN{printf "server CPU per request, 2 loops / 1 loop: %.2fx (target <= 1.10x)\n", two/one}'
