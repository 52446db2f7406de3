#!/usr/bin/env bash
# Go baselines beside evergreen's loop/sync benchmarks, in one run on this
# machine (dev-only). Installs Debian's golang-go if missing; builds offline.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq golang-go >&2 || { apt-get update -qq >&2 && apt-get install -y -qq golang-go >&2; }
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd bench/go_compare && GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$work/cache" GOPATH="$work/go" \
   go build -o "$work/go_compare" .)
./bazelw build --config=opt //bench:idle_tasks //bench:timers //bench:task_spawn_join >&2
bin=$(./bazelw info --config=opt bazel-bin 2>/dev/null)/bench
for mode in "spawn 1000000" "timers 100000" "idle 100000" "idle 1000000"; do
  GOMAXPROCS=1 "$work/go_compare" $mode
done
"$bin/task_spawn_join" 2>/dev/null | grep '^BM_'
"$bin/timers" 2>/dev/null | grep '^BM_'
"$bin/idle_tasks" 2>/dev/null | grep '^BM_'
