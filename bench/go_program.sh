# Sourced by the benchmark scripts that run a Go peer (run_echo.sh,
# run_tls_compare.sh, run_go_compare.sh, run_cross_loop_compare.sh).
#
#   build_go_program DIR OUTPUT WORK
#
# Builds the Go program in DIR (standard library only, offline: no module
# downloads) into OUTPUT, with its caches under WORK. Installs Debian's
# golang-go first if `go` is missing (dev-only, the way bazelw installs
# packages).
build_go_program() {
  local dir=$1 output=$2 work=$3
  if ! command -v go >/dev/null; then
    echo "== installing golang-go from Debian (dev-only, for the Go comparison)" >&2
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      golang-go >&2 ||
      { $sudo apt-get update -qq >&2 &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
          golang-go >&2; }
  fi
  (cd "$dir" && GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$work/go-cache" GOPATH="$work/go" \
    go build -o "$output" .)
}
