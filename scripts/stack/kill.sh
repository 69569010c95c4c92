#!/usr/bin/env bash
# Fault injection for tests: kill -9 a stack service by its pid file (no clean shutdown).
#   bash scripts/stack/kill.sh SERVICE...     SERVICE: kafka | redis | jaeger
# Restart with: bash scripts/stack/up.sh SERVICE
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $# -ge 1 ]] || { echo "usage: $0 kafka|redis|jaeger..." >&2; exit 2; }
parse_services "$@" || exit 2

rc=0
for svc in "${SERVICES[@]}"; do
  pid="$(read_pid "$svc" || true)"
  if [[ -z "$pid" ]] || ! pid_alive "$svc"; then
    warn "$svc: not running"
    rc=1
    continue
  fi
  kill -KILL "$pid"
  # Wait (bounded) until the process is gone so callers can rely on it.
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$(svc_pidfile "$svc")"
  log "$svc: killed -9 (pid $pid)"
done
exit $rc
