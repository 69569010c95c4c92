#!/usr/bin/env bash
# Build (once) the manifest validator in this folder and cache the binary under the stack cache.
# The cache key is a hash of go.mod, go.sum and the sources, so an edit rebuilds and nothing else does.
# Prints the path of the binary on stdout (last line).
#   TUSK_STACK_HOME  cache root (default ~/.cache/tusk-collector)
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STACK_HOME="${TUSK_STACK_HOME:-$HOME/.cache/tusk-collector}"
KEY="$(cat "$SRC_DIR"/go.mod "$SRC_DIR"/go.sum "$SRC_DIR"/*.go | sha256sum | cut -c1-12)"
BIN="$STACK_HOME/bin/k8s-validate-$KEY"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

GO="$(command -v go || echo /usr/local/go/bin/go)"
[[ -x "$GO" ]] || { echo "k8s-validate/build.sh: 'go' not found (need Go >= 1.26)" >&2; exit 1; }
mkdir -p "$STACK_HOME/bin"
exec 9>"$STACK_HOME/bin/.k8s-validate.lock"
flock 9
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi

start=$(date +%s)
echo "[k8s-validate] building (first run only: modules from the Go module proxy + compile)" >&2
cd "$SRC_DIR"
CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w" -o "$BIN.tmp.$$" . >&2
mv -f "$BIN.tmp.$$" "$BIN"
echo "[k8s-validate] built $BIN in $(( $(date +%s) - start ))s" >&2
echo "$BIN"
