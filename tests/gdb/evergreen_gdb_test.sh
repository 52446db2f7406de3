#!/bin/bash
# tools/gdb/evergreen.py against gdb_test_program: attached to the running
# process, and on a core file of it written with gcore.
# Usage: evergreen_gdb_test.sh PROGRAM GDB_SCRIPT DEBUG_OBJECT...
# DEBUG_OBJECT: the program library's object file, whose debug information
# describes the evergreen types (see gdb_test_program_lib.cc).
set -euo pipefail
program="$(realpath "$1")"
script="$(realpath "$2")"
shift 2
object=""
for candidate in "$@"; do [[ "$candidate" == *.o ]] && object="$(realpath "$candidate")" && break; done
[[ -n "$object" ]] || { echo "FAIL: no debug object among: $*"; exit 1; }
work="${TEST_TMPDIR:-$(mktemp -d)}"

command -v gdb >/dev/null || { echo "FAIL: gdb is not installed (bazelw installs it for tests)"; exit 1; }

"$program" >"$work/out" 2>"$work/err" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  grep -q ready "$work/out" 2>/dev/null && break
  sleep 0.1
done
grep -q ready "$work/out" || { echo "FAIL: the program did not get ready"; cat "$work/err"; exit 1; }

commands=(-ex "add-symbol-file $object" -ex "source $script" -ex "info evergreen-tasks" -ex "evergreen-bt gdb-sleeper"
          -ex "evergreen-bt 1")

check() {  # check WHAT OUTPUT-FILE
  local what="$1" file="$2" wanted
  for wanted in "'gdb-sleeper' blocked on sleep" "'gdb-second' blocked on sleep" \
                "in gdb_test_waits_here" "in evergreen::sleep" "loop on thread "; do
    if ! grep -qF -- "$wanted" "$file"; then
      echo "FAIL ($what): gdb's output lacks: $wanted"
      cat "$file"
      exit 1
    fi
  done
  echo "ok ($what)"
}

timeout 120 gdb -batch -nx -p "$pid" "${commands[@]}" >"$work/live.txt" 2>&1 || true
if grep -q "ptrace: Operation not permitted" "$work/live.txt"; then
  echo "SKIP: this machine forbids ptrace (gdb: ptrace: Operation not permitted); the gdb"
  echo "commands could not be checked here"
  cat "$work/live.txt"
  exit 0
fi
echo "--- live process"
cat "$work/live.txt"
check "live process" "$work/live.txt"

# The core file: the kernel's own dump (SIGABRT). gdb's gcore reads memory
# through /proc/PID/mem, which fails on the guard regions the fiber stack pool
# installs (MADV_GUARD_INSTALL, Linux 6.13+), and then leaves whole chunks of
# the stacks as zeros; the kernel writes the stacks and skips only the guards.
if [[ "$(cat /proc/sys/kernel/core_pattern)" != core* ]]; then
  echo "SKIP core file: kernel.core_pattern is '$(cat /proc/sys/kernel/core_pattern)', not a file"
  echo "1 passed, 0 failed"
  exit 0
fi
kill "$pid"
wait "$pid" 2>/dev/null || true
cd "$work"
rm -f core core.*
ulimit -c unlimited
# Sanitizer builds turn core dumps off by default.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}disable_coredump=0"
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}disable_coredump=0"
: >"$work/out"
"$program" >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 300); do
  grep -q ready "$work/out" 2>/dev/null && break
  sleep 0.1
done
kill -ABRT "$pid"
wait "$pid" 2>/dev/null || true
core="$(ls "$work"/core* 2>/dev/null | head -1)"
[[ -n "$core" ]] || { echo "FAIL: the kernel wrote no core file in $work"; exit 1; }
timeout 120 gdb -batch -nx "$program" "$core" "${commands[@]}" >"$work/core.txt" 2>&1 || true
echo "--- core file"
cat "$work/core.txt"
check "core file" "$work/core.txt"
echo "1 passed, 0 failed"
