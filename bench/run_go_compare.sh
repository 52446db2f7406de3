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

if ! command -v go >/dev/null; then
  echo "run_go_compare.sh: installing Debian's golang-go" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends golang-go >&2 ||
    { $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq --no-install-recommends golang-go >&2; }
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd bench/go/cold_start && GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$work/cache" GOPATH="$work/go" \
  go build -o "$work/cold_start" .)
./bazelw build --config=opt //bench:timers //bench:idle_tasks >&2
bin=$(./bazelw info --config=opt bazel-bin 2>/dev/null)/bench

results="$work/results"
: >"$results"
# ours WORKLOAD BINARY FILTER: one fresh process; its counters as
# "WORKLOAD evergreen KEY VALUE" lines.
ours() {
  taskset -c "$cpu" "$2" --benchmark_filter="$3" --benchmark_format=json 2>/dev/null >"$work/out.json"
  python3 - "$1" "$work/out.json" >>"$results" <<'PY'
import json, sys
workload, path = sys.argv[1], sys.argv[2]
runs = json.load(open(path))["benchmarks"]
if len(runs) != 1 or runs[0].get("error_occurred"):
    sys.exit(f"run_go_compare.sh: {workload}: expected one successful benchmark in {path}, got {runs}")
for key in ("cold_wall_ms", "create_ns_per_task", "rss_bytes_per_task", "peak_rss_MiB"):
    if key in runs[0]:
        print(workload, "evergreen", key, runs[0][key])
PY
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
      *) echo "run_go_compare.sh: unknown workload '$workload' (timers, idle100k, idle1m)" >&2; exit 2 ;;
    esac
  done
done

python3 - "$results" "$runs" <<'PY'
import collections, statistics, sys
values = collections.defaultdict(list)
for line in open(sys.argv[1]):
    workload, side, key, value = line.split()
    values[(workload, key, side)].append(float(value))
print(f"medians of {sys.argv[2]} fresh processes per side (Go: GOMAXPROCS=1)")
print(f"{'workload':<10} {'figure':<20} {'evergreen':>12} {'go':>12} {'ratio':>7}  (all runs: evergreen | go)")
for workload, key in dict.fromkeys((w, k) for w, k, _ in values):
    ours, go = values[(workload, key, "evergreen")], values[(workload, key, "go")]
    if not ours or not go:
        continue
    a, b = statistics.median(ours), statistics.median(go)
    spread = " ".join(f"{v:.0f}" for v in ours) + " | " + " ".join(f"{v:.0f}" for v in go)
    print(f"{workload:<10} {key:<20} {a:>12.1f} {b:>12.1f} {a / b:>7.2f}  ({spread})")
PY
