#!/usr/bin/env bash
# Cold start and memory per task, evergreen beside Go (issue 18), in one run:
#
#   bench/run_go_compare.sh [RUNS]
#
# Three workloads, each measured RUNS times (default 5) in a fresh process on
# each side, the two sides alternating so that both see the same machine:
#
#   timers      100k tasks each sleeping a random 0-100 ms: wall time from the
#               first spawn to the last wake, peak RSS
#               (//bench:timers BM_TimersColdStart; Go: bench/go/cold_start timers)
#   idle 100k   100k tasks blocked on one event: creation time and resident
#   idle 1M     memory per task (//bench:idle_tasks BM_IdleTasksColdStart;
#               Go: bench/go/cold_start idle, GOMAXPROCS=1)
#
# It prints the median of each figure on each side and the ratio
# evergreen / Go. Both sides run pinned to CPU $CPU (default 1), one process
# at a time. WORKLOADS="timers idle100k idle1m" (the default) picks which.
#
# A dev tool, not a test: Go is needed here only. If `go` is missing it
# installs Debian's golang-go (as bazelw installs packages); the Go program
# uses the standard library only and builds offline.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "run_go_compare.sh: RUNS '$runs' is not a positive integer" >&2; exit 2; }
cpu=${CPU:-1}
workloads=${WORKLOADS:-timers idle100k idle1m}
for workload in $workloads; do
  case $workload in
    timers | idle100k | idle1m) ;;
    *) echo "run_go_compare.sh: unknown workload '$workload' (timers, idle100k, idle1m)" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source bench/go_program.sh
build_go_program bench/go/cold_start "$work/cold_start" "$work"
./bazelw build --config=opt //bench:timers //bench:idle_tasks >&2
bin=$(./bazelw info --config=opt bazel-bin 2>/dev/null)/bench

results="$work/results"
: >"$results"
# ours WORKLOAD BINARY FILTER: one fresh process; its counters as
# "WORKLOAD evergreen KEY VALUE" lines.
ours() {
  taskset -c "$cpu" "$2" --benchmark_filter="$3" --benchmark_format=json 2>/dev/null >"$work/out.json"
  python3 bench/cold_compare.py counters "$1" "$work/out.json" >>"$results"
}
# theirs WORKLOAD MODE N: one fresh Go process, same lines with "go".
theirs() {
  GOMAXPROCS=1 taskset -c "$cpu" "$work/cold_start" "$2" "$3" | tr ' ' '\n' |
    awk -F= -v w="$1" 'NF == 2 { print w, "go", $1, $2 }' >>"$results"
}

for workload in $workloads; do
  for ((run = 1; run <= runs; ++run)); do
    echo "run_go_compare.sh: $workload, run $run of $runs" >&2
    case $workload in
      timers) ours timers "$bin/timers" 'BM_TimersColdStart/tasks:100000/'
              theirs timers timers 100000 ;;
      idle100k) ours idle100k "$bin/idle_tasks" 'BM_IdleTasksColdStart/tasks:100000/'
                theirs idle100k idle 100000 ;;
      idle1m) ours idle1m "$bin/idle_tasks" 'BM_IdleTasksColdStart/tasks:1000000/'
              theirs idle1m idle 1000000 ;;
    esac
  done
done

echo "medians of $runs fresh processes per side (Go: GOMAXPROCS=1, both pinned to CPU $cpu)"
python3 bench/cold_compare.py summary "$results"
