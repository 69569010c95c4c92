#!/usr/bin/env bash
# One line per service; exit 0 if all (or all named) services are up, else 3.
#   bash scripts/stack/status.sh [kafka|redis|jaeger]...
set -uo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
parse_services "$@" || { echo "usage: $0 [kafka|redis|jaeger]..." >&2; exit 2; }

down=0
for svc in "${SERVICES[@]}"; do
  pid="$(read_pid "$svc" || true)"
  ports=""
  for p in $(svc_ports "$svc"); do
    if port_open "$p"; then ports+=" $p"; else ports+=" $p(closed)"; fi
  done
  if svc_running "$svc"; then
    printf '%-7s running  pid %-7s 127.0.0.1:%s\n' "$svc" "$pid" "${ports# }"
  elif pid_alive "$svc"; then
    printf '%-7s starting pid %-7s 127.0.0.1:%s (main port not answering)\n' "$svc" "$pid" "${ports# }"
    down=1
  else
    other=""
    port_open "$(svc_port "$svc")" && other=" (port $(svc_port "$svc") is answering, but not our process${pid:+; stale pid $pid})"
    printf '%-7s stopped%s\n' "$svc" "$other"
    down=1
  fi
done
exit $(( down ? 3 : 0 ))
