#!/usr/bin/env bash
# Network faults between two hosts of the rehearsal cluster (scripts/cluster/up.sh, namespace mode only),
# for the drills of test/cluster/drills.ts; heal undoes them, down.sh and every drill's teardown call it.
#   bash scripts/cluster/fault.sh partition HOST PEER...      drop every packet between HOST and each PEER
#   bash scripts/cluster/fault.sh slow HOST PEER DELAY_MS LOSS_PCT
#                                  route HOST <-> PEER through a relay that adds DELAY_MS / 2 per direction
#                                  (DELAY_MS more round trip) and drops LOSS_PCT % of packets per direction
#   bash scripts/cluster/fault.sh heal                        remove every fault
#   bash scripts/cluster/fault.sh show                        list the faults in place
# Hosts are the names of lib.sh (k1..k3, r, i1, i2, s1..s5). A partition is tc inside both namespaces:
# an htb root qdisc on eth0 whose default class passes everything and whose class 1:2, fed by one u32
# filter per peer address, ends in `pfifo limit 0` (drops all). This kernel has no sch_netem (nor prio,
# nor tc actions), so the slow link is netem-relay.pl: a TUN device in each namespace, a /32 route to the
# peer through it, and a userspace relay that delays and drops; established connections move with the
# route. Both sides are set, so a fault is symmetric.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODE="$(cl_mode)"
ALL_HOSTS=(k1 k2 k3 r "${COLLECTOR_HOSTS[@]}")
RELAY_TUN=tkf # TUN device name prefix: tkf-<peer> in HOST's namespace, tkf-<host> in PEER's

need_netns() {
  [[ "$MODE" == netns ]] || { cl_err "fault: network faults need namespace mode (cluster mode: $MODE)"; exit 2; }
}

# has_drop_qdisc NS: the namespace's eth0 has fault.sh's htb root (output read whole: `grep -q` on a pipe would
# make tc die of SIGPIPE, and pipefail turn a match into a miss).
has_drop_qdisc() {
  local out
  out="$(ip netns exec "$1" tc qdisc show dev eth0 2>/dev/null || true)"
  [[ "$out" == *"qdisc htb 1: root"* ]]
}

# drop_to HOST PEER: in HOST's namespace, send packets for PEER's address to the dropping class.
drop_to() {
  local ns; ns="$(cl_ns "$1")"
  if ! has_drop_qdisc "$ns"; then
    ip netns exec "$ns" tc qdisc replace dev eth0 root handle 1: htb default 1
    ip netns exec "$ns" tc class add dev eth0 parent 1: classid 1:1 htb rate 10gbit quantum 60000
    ip netns exec "$ns" tc class add dev eth0 parent 1: classid 1:2 htb rate 10gbit quantum 60000
    ip netns exec "$ns" tc qdisc add dev eth0 parent 1:2 handle 20: pfifo limit 0
  fi
  ip netns exec "$ns" tc filter add dev eth0 parent 1: protocol ip prio 1 u32 \
    match ip dst "$(cl_ip "$2")/32" flowid 1:2
}

partition() {
  local h="$1" p; shift
  for p in "$@"; do
    drop_to "$h" "$p"
    drop_to "$p" "$h"
  done
  cl_log "fault: $h partitioned from $*"
}

slow() {
  local h="$1" p="$2" delay="$3" loss="$4" pidf
  pidf="$(cl_pidfile "fault-relay-$h-$p")"
  if cl_alive "fault-relay-$h-$p" netem-relay; then cl_err "fault: $h <-> $p is already slowed"; return 1; fi
  setsid perl "$CLUSTER_DIR/netem-relay.pl" "$(cl_ns "$h")" "$RELAY_TUN-$p" "$(cl_ns "$p")" "$RELAY_TUN-$h" \
    "$(( delay / 2 ))" "$loss" >"$CLUSTER_STATE/fault-relay-$h-$p.log" 2>&1 </dev/null 8>&- &
  echo $! >"$pidf"
  local ready="ip -n $(cl_ns "$h") link show $RELAY_TUN-$p && ip -n $(cl_ns "$p") link show $RELAY_TUN-$h"
  WAIT_PID=$! wait_until 10 "fault: relay $h <-> $p" bash -c "$ready" \
    || { cat "$CLUSTER_STATE/fault-relay-$h-$p.log" >&2; return 1; }
  ip -n "$(cl_ns "$h")" link set "$RELAY_TUN-$p" up
  ip -n "$(cl_ns "$p")" link set "$RELAY_TUN-$h" up
  ip -n "$(cl_ns "$h")" route add "$(cl_ip "$p")/32" dev "$RELAY_TUN-$p" src "$(cl_ip "$h")"
  ip -n "$(cl_ns "$p")" route add "$(cl_ip "$h")/32" dev "$RELAY_TUN-$h" src "$(cl_ip "$p")"
  cl_log "fault: $h <-> $p slowed: +${delay} ms round trip, ${loss} % loss per direction (relay pid $(<"$pidf"))"
}

# heal: remove every namespace's dropping qdisc and stop every relay (its TUN devices and routes go with it).
heal() {
  local h ns f name
  for h in "${ALL_HOSTS[@]}"; do
    ns="$(cl_ns "$h")"
    ip netns list | grep -qw -- "$ns" || continue
    if has_drop_qdisc "$ns"; then ip netns exec "$ns" tc qdisc del dev eth0 root; fi
    if has_drop_qdisc "$ns"; then cl_err "fault: could not remove the qdisc of $ns"; return 1; fi
  done
  for f in "$CLUSTER_STATE"/pids/fault-relay-*.pid; do
    [[ -e "$f" ]] || continue
    name="$(basename "$f" .pid)"
    if cl_alive "$name" netem-relay; then kill -TERM "$(cl_read_pid "$name")" 2>/dev/null || true; fi
    rm -f "$f"
  done
  relays_gone() { ! pgrep -f "$CLUSTER_DIR/netem-relay.pl" >/dev/null; }
  wait_until 10 "fault: relays to exit" relays_gone || return 1
  cl_log "fault: healed (no qdisc, no relay left)"
}

show() {
  local h ns f
  for h in "${ALL_HOSTS[@]}"; do
    ns="$(cl_ns "$h")"
    ip netns list | grep -qw -- "$ns" || continue
    ip netns exec "$ns" tc filter show dev eth0 parent 1: 2>/dev/null | grep -o 'match [0-9a-f]*/ffffffff at 16' \
      | sed "s/^/$h drops to /" || true
  done
  for f in "$CLUSTER_STATE"/pids/fault-relay-*.pid; do
    [[ -e "$f" ]] && echo "$(basename "$f" .pid): pid $(<"$f")"
  done
  return 0
}

case "${1:-}" in
  partition) need_netns; [[ $# -ge 3 ]] || { cl_err "usage: $0 partition HOST PEER..."; exit 2; }
             shift; partition "$@" ;;
  slow)      need_netns; [[ $# -eq 5 ]] || { cl_err "usage: $0 slow HOST PEER DELAY_MS LOSS_PCT"; exit 2; }
             shift; slow "$@" ;;
  heal)      [[ "$MODE" != netns ]] || heal ;;
  show)      show ;;
  *)         cl_err "usage: $0 partition HOST PEER... | slow HOST PEER DELAY_MS LOSS_PCT | heal | show"
             exit 2 ;;
esac
