#!/usr/bin/env bash
# Paired A/B of two benchmark binaries on this noisy VM (dev-only).
#
#   bench/ab_paired.sh OLD_BINARY NEW_BINARY [PAIRS] [COUNTER]
#
# Runs both binaries at the same time, one pinned to each CPU, swapping CPUs
# every pair, and prints NEW/OLD for one Google Benchmark counter (default
# warm_wall_ms, from //bench:timers). The VM drifts by 1.5-2x within minutes,
# so runs taken one after the other can't resolve a 10% change; both halves
# of a pair see the same drift, and the ratio stays steady. Absolute figures
# are worse than in a run alone (the two share the last-level cache and
# memory), so quote those from separate runs.
set -euo pipefail
old=$1
new=$2
pairs=${3:-8}
counter=${4:-warm_wall_ms}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# value RUN: the counter's value in one run, from the binary's JSON output
# (exact) or, if it wrote none, from its console output, where Google
# Benchmark prints 1295.31 as 1.29531k (k M G T: powers of 1000, Ki Mi Gi:
# powers of 1024, m u n: thousandths down to billionths) and rate counters
# end in /s, or s for inverted ones.
value() {
  if [[ -s "$1.json" ]]; then
    python3 -c '
import json, sys
for run in json.load(open(sys.argv[1]))["benchmarks"]:
    if sys.argv[2] in run:
        print(repr(float(run[sys.argv[2]])))
        break' "$1.json" "$counter"
    return
  fi
  grep -oE "(^|[[:space:]])$counter=[0-9.e+-]+(Ki|Mi|Gi|Ti|[kMGTmun])?" "$1" | head -1 |
    awk -F= '{
      v = $2; scale = 1
      if (match(v, /(Ki|Mi|Gi|Ti)$/)) {
        scale = 1024 ^ (index("KMGT", substr(v, RSTART, 1))); v = substr(v, 1, RSTART - 1)
      } else if (match(v, /[kMGT]$/)) {
        scale = 1000 ^ index("kMGT", substr(v, RSTART, 1)); v = substr(v, 1, RSTART - 1)
      } else if (match(v, /[mun]$/)) {
        scale = 1000 ^ -index("mun", substr(v, RSTART, 1)); v = substr(v, 1, RSTART - 1)
      }
      printf "%.10g\n", v * scale
    }'
}

for ((i = 1; i <= pairs; i++)); do
  if ((i % 2)); then old_cpu=0 new_cpu=1; else old_cpu=1 new_cpu=0; fi
  rm -f "$out/old.json" "$out/new.json"
  taskset -c "$old_cpu" "$old" --benchmark_out="$out/old.json" --benchmark_out_format=json \
    >"$out/old" 2>&1 &
  old_pid=$!
  taskset -c "$new_cpu" "$new" --benchmark_out="$out/new.json" --benchmark_out_format=json \
    >"$out/new" 2>&1 &
  new_pid=$!
  wait "$old_pid" "$new_pid"
  echo "$(value "$out/old") $(value "$out/new")"
done | awk -v counter="$counter" '
  NF == 2 && $1 > 0 {
    ratio[++n] = $2 / $1
    printf "  old %9.2f  new %9.2f  new/old %.3f\n", $1, $2, ratio[n]
  }
  END {
    if (n == 0) { print "no pairs with " counter; exit 1 }
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (ratio[j] < ratio[i]) {
      t = ratio[i]; ratio[i] = ratio[j]; ratio[j] = t
    }
    median = n % 2 ? ratio[(n + 1) / 2] : (ratio[n / 2] + ratio[n / 2 + 1]) / 2
    printf "%s: median new/old %.3f over %d pairs (range %.3f-%.3f)\n",
           counter, median, n, ratio[1], ratio[n]
  }'
