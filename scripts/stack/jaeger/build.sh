#!/usr/bin/env bash
# Build (once) the Jaeger v2 binary from the Go module proxy and cache it.
# Prints the path of the cached binary on stdout (last line). Idempotent.
#   JAEGER_MODULE_VERSION  module tag to build (default v1.76.0 = Jaeger v2.13.0)
#   TUSK_STACK_HOME        cache root (default ~/.cache/tusk-collector)
set -euo pipefail

JAEGER_MODULE_VERSION="${JAEGER_MODULE_VERSION:-v1.76.0}"
STACK_HOME="${TUSK_STACK_HOME:-$HOME/.cache/tusk-collector}"
BIN_DIR="$STACK_HOME/bin"
BIN="$BIN_DIR/jaeger-$JAEGER_MODULE_VERSION"
BUILD_DIR="$STACK_HOME/jaeger-build-$JAEGER_MODULE_VERSION"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: 'go' not found on PATH (need Go >= 1.24)" >&2; exit 1; }
mkdir -p "$BIN_DIR" "$BUILD_DIR"

# One build at a time (up.sh may be run concurrently by several shells).
exec 9>"$BUILD_DIR/.lock"
flock 9
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi

start=$(date +%s)
echo "[jaeger] building github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_MODULE_VERSION from the Go module proxy" >&2
echo "[jaeger] first build takes several minutes (module download ~1-2 GB + compile); later runs use the cached binary" >&2
cd "$BUILD_DIR"
# `go install pkg@version` is refused (jaeger's go.mod has replace directives): use a scratch module.
if [[ ! -f go.mod ]]; then
  go mod init local/jaegerbuild >&2
fi
if ! grep -q "github.com/jaegertracing/jaeger $JAEGER_MODULE_VERSION" go.mod 2>/dev/null \
   || ! grep -q '^tool github.com/jaegertracing/jaeger/cmd/jaeger' go.mod; then
  echo "[jaeger] go get -tool (downloading modules)..." >&2
  go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_MODULE_VERSION" >&2
fi
echo "[jaeger] go build (CGO_ENABLED=0 -trimpath)..." >&2
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN.tmp.$$" github.com/jaegertracing/jaeger/cmd/jaeger >&2
mv -f "$BIN.tmp.$$" "$BIN"
echo "[jaeger] built $BIN in $(( $(date +%s) - start ))s" >&2
echo "$BIN"
