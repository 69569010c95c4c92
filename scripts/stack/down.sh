#!/usr/bin/env bash
# Stop what scripts/stack/up.sh started, by pid file only (TERM, wait, then KILL).
#   bash scripts/stack/down.sh [kafka|redis|jaeger]...   (default: all)
# Data in $TUSK_STACK_STATE is kept (Kafka topics survive a restart; Redis and Jaeger are in-memory).
# Use `down.sh --purge` to also delete the state dir (data, logs).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PURGE=0
args=()
for a in "$@"; do
  if [[ "$a" == --purge ]]; then PURGE=1; else args+=("$a"); fi
done
parse_services ${args[@]+"${args[@]}"} || { echo "usage: $0 [--purge] [kafka|redis|jaeger]..." >&2; exit 2; }

# Stop in reverse dependency order: jaeger, redis, kafka (Kafka takes the longest).
for svc in jaeger redis kafka; do
  [[ " ${SERVICES[*]} " == *" $svc "* ]] || continue
  pid="$(read_pid "$svc" || true)"
  t=$(now_ms)
  if [[ -n "$pid" ]] && pid_alive "$svc"; then
    log "$svc: stopping pid $pid..."
    # Kafka needs time for a controlled shutdown; the others stop at once.
    if [[ "$svc" == kafka ]]; then to=45; else to=15; fi
    stop_pid "$svc" "$to"
    ok "$svc: stopped ($(elapsed "$t"))"
  else
    rm -f "$(svc_pidfile "$svc")"
    log "$svc: not running"
  fi
  if [[ $PURGE -eq 1 ]]; then
    rm -rf "${STACK_STATE:?}/$svc"
    log "$svc: state purged ($STACK_STATE/$svc)"
  fi
done
