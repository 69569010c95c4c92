#!/usr/bin/env bash
# Build (once) the helm v3 binary from the Go module proxy and cache it beside Jaeger.
# Prints the path of the cached binary on stdout (last line). Idempotent; a cached run takes milliseconds.
#   HELM_MODULE_VERSION  helm.sh/helm/v3 tag to build (default v3.22.1)
#   TUSK_STACK_HOME      cache root (default ~/.cache/tusk-collector)
set -euo pipefail

HELM_MODULE_VERSION="${HELM_MODULE_VERSION:-v3.22.1}"
STACK_HOME="${TUSK_STACK_HOME:-$HOME/.cache/tusk-collector}"
BIN_DIR="$STACK_HOME/bin"
BIN="$BIN_DIR/helm-$HELM_MODULE_VERSION"
BUILD_DIR="$STACK_HOME/helm-build-$HELM_MODULE_VERSION"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

GO="$(command -v go || echo /usr/local/go/bin/go)"
[[ -x "$GO" ]] || { echo "helm.sh: 'go' not found (need Go >= 1.24)" >&2; exit 1; }
mkdir -p "$BIN_DIR" "$BUILD_DIR"

# One build at a time (several test runs may call this at once).
exec 9>"$BUILD_DIR/.lock"
flock 9
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi

start=$(date +%s)
echo "[helm] building helm.sh/helm/v3/cmd/helm@$HELM_MODULE_VERSION from the Go module proxy (first run only)" >&2
cd "$BUILD_DIR"
# A scratch module pins the version through go.mod/go.sum (same pattern as jaeger/build.sh).
[[ -f go.mod ]] || "$GO" mod init local/helmbuild >&2
if ! grep -q "helm.sh/helm/v3 $HELM_MODULE_VERSION" go.mod || ! grep -q '^tool helm.sh/helm/v3/cmd/helm' go.mod; then
  "$GO" get -tool "helm.sh/helm/v3/cmd/helm@$HELM_MODULE_VERSION" >&2
fi
# The ldflags of helm's Makefile: its version, and the Kubernetes version it assumes without a cluster
# (client-go 0.M.x -> 1.M; without it `helm template` assumes 1.20 and refuses charts needing newer).
k8s="$("$GO" list -m -f '{{.Version}}' k8s.io/client-go)"   # v0.37.1
k8s_minor="$(cut -d. -f2 <<<"$k8s")"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_MODULE_VERSION"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in pkg/lint/rules pkg/chartutil; do
  ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$k8s_minor"
done
CGO_ENABLED=0 "$GO" build -trimpath -ldflags "$ldflags" -o "$BIN.tmp.$$" helm.sh/helm/v3/cmd/helm >&2
mv -f "$BIN.tmp.$$" "$BIN"
echo "[helm] built $BIN in $(( $(date +%s) - start ))s" >&2
echo "$BIN"
