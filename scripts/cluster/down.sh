#!/usr/bin/env bash
# Tear down the rehearsal cluster made by scripts/cluster/up.sh: every process it (or the drill runner)
# recorded in $TUSK_CLUSTER_STATE/pids and every process left inside its namespaces (TERM, then KILL),
# then the namespaces, veths and bridge; network faults (fault.sh) are healed first. Only the cluster's own
# pids and namespaces are touched.
#   bash scripts/cluster/down.sh [--purge]     (--purge also deletes the state dir: data, logs)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PURGE=0
for a in "$@"; do
  case "$a" in
    --purge) PURGE=1 ;;
    *) cl_err "usage: $0 [--purge]"; exit 2 ;;
  esac
done
T_ALL=$(now_ms)
MODE="$(cl_mode)"

# Network faults first (fault.sh): qdiscs and relays, so nothing of them outlives the cluster.
[[ "$MODE" != netns ]] || bash "$CLUSTER_DIR/fault.sh" heal || true

# Pids: recorded ones, plus whatever still runs inside our namespaces.
pids=()
for f in "$CLUSTER_STATE"/pids/*.pid; do
  [[ -s "$f" ]] || continue
  p="$(tr -dc '0-9' <"$f")"
  [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null && pids+=("$p")
done
if [[ "$MODE" == netns ]]; then
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$CL_PREFIX-" || true); do
    for p in $(ip netns pids "$ns" 2>/dev/null || true); do pids+=("$p"); done
  done
fi
if [[ ${#pids[@]} -gt 0 ]]; then
  mapfile -t pids < <(printf '%s\n' "${pids[@]}" | sort -un)
  cl_log "stopping ${#pids[@]} processes: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  all_gone() { local p; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
  if ! wait_until 30 "cluster processes to exit" all_gone; then
    cl_log "sending KILL to the rest"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait_until 10 "cluster processes to die" all_gone || true
  fi
fi
rm -f "$CLUSTER_STATE"/pids/*.pid

if [[ "$MODE" == netns ]]; then
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$CL_PREFIX-" || true); do
    ip netns del "$ns" 2>/dev/null || cl_err "could not delete namespace $ns"
  done
  for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^v$CL_PREFIX-" || true); do
    ip link del "$l" 2>/dev/null || true
  done
  if ip link show "$CL_BRIDGE" >/dev/null 2>&1; then ip link del "$CL_BRIDGE"; fi
  cl_log "network: namespaces, veths and bridge $CL_BRIDGE removed"
fi
# Redis nodes start from scratch every time (no persistence): forget the cluster membership.
rm -f "$CLUSTER_STATE"/redis-*/nodes.conf "$CLUSTER_STATE"/redis-*/dump.rdb
if [[ $PURGE -eq 1 ]]; then
  rm -rf "${CLUSTER_STATE:?}"
  cl_log "state purged ($CLUSTER_STATE)"
else
  rm -f "$CLUSTER_STATE/mode" "$CLUSTER_STATE/cluster.env"
fi
cl_ok "down ($(elapsed "$T_ALL"))"
