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

value() { grep -o "$counter=[0-9.]*" "$1" | head -1 | cut -d= -f2; }

for ((i = 1; i <= pairs; i++)); do
  if ((i % 2)); then old_cpu=0 new_cpu=1; else old_cpu=1 new_cpu=0; fi
  taskset -c "$old_cpu" "$old" >"$out/old" 2>&1 &
  old_pid=$!
  taskset -c "$new_cpu" "$new" >"$out/new" 2>&1 &
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
