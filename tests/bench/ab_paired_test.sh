#!/usr/bin/env bash
# bench/ab_paired.sh reads counters as Google Benchmark prints them: with an
# SI suffix on the console (999.5 beside 1.999k), and exactly from the JSON
# when the binary writes it. Fake benchmark binaries stand in for real ones.
set -euo pipefail
script=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fake NAME CONSOLE_VALUE JSON_VALUE: a "benchmark" that prints the counter as
# CONSOLE_VALUE and, given --benchmark_out=FILE and a JSON_VALUE, writes it
# there as Google Benchmark would.
fake() {
  cat >"$work/$1" <<FAKE
#!/usr/bin/env bash
echo "BM_Fake/tasks:100000   1 ms   1 ms   1 cold_wall_ms=5k warm_wall_ms=$2"
for argument in "\$@"; do
  case "\$argument" in
    --benchmark_out=*)
      [[ -n "$3" ]] && echo '{"benchmarks": [{"name": "BM_Fake/tasks:100000",
        "cold_wall_ms": 5000, "warm_wall_ms": $3}]}' >"\${argument#*=}" ;;
  esac
done
exit 0
FAKE
  chmod +x "$work/$1"
}

expect() {
  local output=$1 wanted=$2
  grep -qF -- "$wanted" <<<"$output" || {
    echo "FAIL: expected '$wanted' in:"
    echo "$output"
    exit 1
  }
}

# Console only: 999.5 then 1.999k (1999), a ratio of 2, not 0.002.
fake old_console 999.5 ""
fake new_console 1.999k ""
output=$("$script" "$work/old_console" "$work/new_console" 2)
expect "$output" "old    999.50  new   1999.00  new/old 2.000"
expect "$output" "warm_wall_ms: median new/old 2.000 over 2 pairs"

# The suffixes Google Benchmark uses: 1000-based k M G, 1024-based Ki Mi,
# and m u n below one.
fake old_mega 1.5M ""
fake new_kibi 1.5Ki ""
output=$("$script" "$work/old_mega" "$work/new_kibi" 1)
expect "$output" "old 1500000.00  new   1536.00"
fake old_milli 2m ""
fake new_micro 4u ""
output=$("$script" "$work/old_milli" "$work/new_micro" 1)
expect "$output" "new/old 0.002"

# JSON wins over the console's six digits: 1.29531k on the console, exact in
# the JSON.
fake old_json 1.29531k 1295.3125
fake new_json 2.59062k 2590.625
output=$("$script" "$work/old_json" "$work/new_json" 2)
expect "$output" "old   1295.31  new   2590.62  new/old 2.000"
expect "$output" "warm_wall_ms: median new/old 2.000 over 2 pairs"

echo "ab_paired_test: ok"
