#!/usr/bin/env bash
# The cross-loop round trip beside its peers, in one run: evergreen (a task
# on each loop of a pinned LoopGroup(2), bouncing an int through two
# ThreadSafeQueues), this machine's floor (two pinned threads spinning on two
# atomics, measured inside the same benchmark), Boost.Fiber (two threads,
# buffered_channel) and Go (two goroutines, GOMAXPROCS=2, unbuffered
# channels; Go keeps both on one P, so its figure is not a cross-core one).
#
#   bench/run_cross_loop_compare.sh
#   REPEATS=5 bench/run_cross_loop_compare.sh
#
# Each figure is the median over REPEATS runs. The evergreen and floor
# figures are each run's fastest iteration (best_ours_ns, best_floor_ns): on
# a shared machine the slower iterations measure preemption, not the path.
# Go is needed for its figure: installed from Debian (golang-go) when missing;
# SKIP_GO=1 runs without it.
set -euo pipefail

REPEATS=${REPEATS:-3}
cd "$(dirname "$0")/.."
echo "== building (--config=opt)" >&2
./bazelw build --config=opt //bench:cross_loop_ping_pong //bench:cross_thread_boost >&2
bin="$(./bazelw info --config=opt bazel-bin 2>/dev/null)/bench"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have_go=0
if [[ "${SKIP_GO:-0}" != 1 ]]; then
  source bench/go_program.sh
  build_go_program bench/go/cross_loop "$work/go_cross_loop" "$work"
  have_go=1
fi

# counter FILE BENCHMARK_NAME COUNTER: one counter of one benchmark in a
# Google Benchmark JSON file.
counter() {
  python3 -c '
import json, sys
for run in json.load(open(sys.argv[1]))["benchmarks"]:
    if run["name"].startswith(sys.argv[2]):
        print(run[sys.argv[3]]); break
' "$@"
}

echo "== $REPEATS repeats; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$work/ours"; : >"$work/floor"; : >"$work/boost"; : >"$work/go"
for repeat in $(seq "$REPEATS"); do
  "$bin/cross_loop_ping_pong" --benchmark_filter='RoundTripAgainstFloor/round_trips:1000/spin_us:50' \
    --benchmark_min_time=0.5 --benchmark_out="$work/ours.json" --benchmark_out_format=json >"$work/console" 2>&1 || { cat "$work/console" >&2; exit 1; }
  ours=$(counter "$work/ours.json" BM_RoundTripAgainstFloor best_ours_ns)
  floor=$(counter "$work/ours.json" BM_RoundTripAgainstFloor best_floor_ns)
  "$bin/cross_thread_boost" --benchmark_min_time=0.5 \
    --benchmark_out="$work/boost.json" --benchmark_out_format=json >"$work/console" 2>&1 || { cat "$work/console" >&2; exit 1; }
  boost=$(counter "$work/boost.json" BM_BoostCrossThreadChannelPingPong seconds_per_round_trip)
  boost=$(awk -v s="$boost" 'BEGIN{printf "%.0f", s*1e9}')
  go="-"
  if [[ $have_go == 1 ]]; then
    go=$("$work/go_cross_loop" | sed -E 's/.*=//')
    echo "$go" >>"$work/go"
  fi
  echo "$ours" >>"$work/ours"; echo "$floor" >>"$work/floor"; echo "$boost" >>"$work/boost"
  printf "repeat %d  evergreen %.0f ns  floor %.0f ns  boost.fiber %s ns  go %s ns\n" \
    "$repeat" "$ours" "$floor" "$boost" "$go"
done

median() { sort -g "$1" | awk '{v[NR]=$1} END{if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
ours=$(median "$work/ours"); floor=$(median "$work/floor")
echo "== medians; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "evergreen cross-loop round trip  %8.0f ns  (%.2fx the floor; target <= 1.5x)\n" \
  "$ours" "$(awk -v o="$ours" -v f="$floor" 'BEGIN{print o/f}')"
printf "floor (two spinning threads)     %8.0f ns\n" "$floor"
printf "Boost.Fiber, two threads         %8.0f ns\n" "$(median "$work/boost")"
[[ $have_go == 1 ]] && printf "Go, GOMAXPROCS=2 (one P)         %8.0f ns\n" "$(median "$work/go")"
exit 0
