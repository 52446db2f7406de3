#!/usr/bin/env bash
# Runs every Google Benchmark binary in bench/ (evergreen's and the Boost
# comparisons; the Go baselines of bench/go_compare when `go` is installed)
# and writes the dashboard:
#
#   bench/dashboard.sh OUTDIR
#
#   OUTDIR/<UTC timestamp>-<commit>/<binary>.json   Google Benchmark JSON, one per binary
#   OUTDIR/<UTC timestamp>-<commit>/<binary>.txt    its console output
#   OUTDIR/<UTC timestamp>-<commit>/notes.txt       what was skipped or failed, if anything
#   OUTDIR/index.html                               the page, over every run in OUTDIR
#
# Each JSON's "context" holds the commit (with -dirty for uncommitted changes)
# and the build flags (.bazelrc's build and build:opt compiler options).
#
# Environment:
#   DASHBOARD_MIN_TIME  --benchmark_min_time in seconds (default: Google
#                       Benchmark's 0.5); e.g. 0.01 for a quick smoke run.
#   DASHBOARD_FILTER    --benchmark_filter for every binary (a leading '-'
#                       excludes), e.g. '-/tasks:1000000' to leave out the
#                       1M-task cases, which take most of a short run.
#   DASHBOARD_NO_GO=1   skip the Go baselines even if `go` is installed.
#
# The "***WARNING*** Library was built as DEBUG" line in each .txt: Debian's
# libbenchmark is compiled optimized (-O2, CMake build type None) but without
# -DNDEBUG, which is all the warning tests; the timed loop is inline in the
# header and built here with -O2 -DNDEBUG. bench/README.md has the evidence.
set -euo pipefail
if (($# != 1)); then
  echo "usage: bench/dashboard.sh OUTDIR" >&2
  exit 2
fi
mkdir -p "$1"
outdir=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."

commit=$(git rev-parse --short=12 HEAD)
[[ -z $(git status --porcelain --untracked-files=no) ]] || commit+="-dirty"
# The compiler options of `build` and `build:opt` in .bazelrc, as given there.
build_flags=$(awk '
  $1 == "build" || $1 == "build:opt" {
    for (i = 2; i <= NF; i++) {
      if ($i ~ /^--(copt|cxxopt|conlyopt|linkopt)=/) flags = flags " " $i
      else if ($i == "-c") { flags = flags " -c " $(i + 1); i++ }
    }
  }
  END { print substr(flags, 2) }' .bazelrc)
run=$outdir/$(date -u +%Y%m%dT%H%M%SZ)-$commit
mkdir -p "$run"
: >"$run/notes.txt"
note() { echo "$*" | tee -a "$run/notes.txt" >&2; }

mapfile -t targets < <(./bazelw query \
  'kind(cc_binary, rdeps(//bench:all, @com_github_google_benchmark//:benchmark))' 2>/dev/null | sort)
((${#targets[@]})) || { echo "dashboard.sh: no benchmark targets found in //bench" >&2; exit 1; }
./bazelw build --config=opt "${targets[@]}" >&2
bin=$(./bazelw info --config=opt bazel-bin 2>/dev/null)

options=(--benchmark_out_format=json "--benchmark_context=commit=$commit,build_config=opt")
[[ -n "${DASHBOARD_MIN_TIME:-}" ]] && options+=("--benchmark_min_time=$DASHBOARD_MIN_TIME")
[[ -n "${DASHBOARD_FILTER:-}" ]] && options+=("--benchmark_filter=$DASHBOARD_FILTER")
failed=0
for target in "${targets[@]}"; do
  name=${target##*:}
  echo "dashboard.sh: running $name" >&2
  if "$bin/bench/$name" "${options[@]}" --benchmark_out="$run/$name.json" >"$run/$name.txt" 2>&1 &&
    python3 bench/add_context.py "$run/$name.json" "build_flags=$build_flags"; then
    continue
  fi
  note "$name failed: see $name.txt"
  rm -f "$run/$name.json"
  failed=1
done

if [[ -n "${DASHBOARD_NO_GO:-}" ]]; then
  note "Go baselines skipped: DASHBOARD_NO_GO is set"
elif ! command -v go >/dev/null; then
  note "Go baselines skipped: go is not installed (apt-get install golang-go)"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd bench/go_compare && GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$work/cache" GOPATH="$work/go" \
    go build -o "$work/go_compare" .)
  for mode in "spawn 1000000" "timers 100000" "idle 100000" "idle 1000000"; do
    GOMAXPROCS=1 "$work/go_compare" $mode
  done >"$run/go_compare.txt" 2>&1 &&
    python3 bench/go_compare_json.py "commit=$commit" "go_version=$(go env GOVERSION)" \
      GOMAXPROCS=1 <"$run/go_compare.txt" >"$run/go_compare.json" ||
    { note "go_compare failed: see go_compare.txt"; rm -f "$run/go_compare.json"; failed=1; }
fi
[[ -s "$run/notes.txt" ]] || rm "$run/notes.txt"

python3 bench/dashboard.py "$outdir"
echo "dashboard.sh: wrote $run and $outdir/index.html" >&2
exit "$failed"
