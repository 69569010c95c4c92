# shellcheck shell=bash
# Shared helpers for scripts/cluster/*.sh (sourced, not executed): the rehearsal cluster's layout.
#
# The rehearsal cluster is 3 Kafka brokers (KRaft, 3-voter quorum) and a 6-node Redis Cluster
# (3 masters + 3 replicas), each broker in its own Linux network namespace on a private bridge, plus
# spare namespaces for collector processes (2 ingest, 5 samplers). It never touches the shared stack
# (scripts/stack/*: Kafka 9092-9095, Redis 6379, Jaeger): other ports, other addresses, other state dir.
#
# Environment:
#   TUSK_CLUSTER_STATE  runtime state: data, pids, logs, cluster.env   (default <repo>/.cluster)
#   TUSK_CLUSTER_NET    first three octets of the private /24          (default 10.219.19)
#   TUSK_CLUSTER_NETNS  1 = network namespaces (default when root and `ip netns` works), 0 = loopback
#                       addresses 127.0.0.x instead (no per-host faults possible then)
#   TUSK_STACK_HOME     cache of the stack's Kafka jars (shared with scripts/stack, never rebuilt here)

# The stack's helpers (log, wait_until, now_ms, kafka_version, ...) and its cache location.
# shellcheck source=../stack/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../stack" && pwd)/lib.sh"

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLUSTER_STATE="${TUSK_CLUSTER_STATE:-$REPO_ROOT/.cluster}"
CLUSTER_NET="${TUSK_CLUSTER_NET:-10.219.19}"

# Names (interface names must stay <= 15 characters).
CL_PREFIX=tkc
CL_BRIDGE="${CL_PREFIX}-br0"
CL_HOST_IP="$CLUSTER_NET.1"

KAFKA_NODES=(1 2 3)
CL_KAFKA_PORT=19092        # PLAINTEXT (clients and inter-broker)
CL_KAFKA_CTRL_PORT=19093   # KRaft controller
CL_KAFKA_HEAP="${TUSK_CLUSTER_KAFKA_HEAP:--Xms256m -Xmx384m}"

REDIS_PORTS=(17001 17002 17003 17004 17005 17006)

# Collector "hosts": ingest i1 i2, samplers s1..s5 (namespaces only; the drill runner starts the processes).
COLLECTOR_HOSTS=(i1 i2 s1 s2 s3 s4 s5)

cl_log()  { log "cluster: $*"; }
cl_ok()   { ok "cluster: $*"; }
cl_err()  { err "cluster: $*"; }

# Decide once whether namespaces are used (recorded in the state dir so down.sh undoes the same thing).
cl_mode() {
  if [[ -s "$CLUSTER_STATE/mode" ]]; then cat "$CLUSTER_STATE/mode"; return; fi
  local want="${TUSK_CLUSTER_NETNS:-auto}"
  if [[ "$want" == 0 ]]; then echo loopback; return; fi
  if [[ $EUID -eq 0 ]] && command -v ip >/dev/null && ip netns add "${CL_PREFIX}-probe" 2>/dev/null; then
    ip netns del "${CL_PREFIX}-probe" 2>/dev/null || true
    echo netns
  elif [[ "$want" == 1 ]]; then
    echo "unavailable"
  else
    echo loopback
  fi
}

# Host name -> address. netns: CLUSTER_NET.x ; loopback: 127.0.0.x (same last octet).
cl_octet() {
  case "$1" in
    k1) echo 11 ;; k2) echo 12 ;; k3) echo 13 ;;
    r) echo 20 ;;
    i1) echo 31 ;; i2) echo 32 ;;
    s1) echo 41 ;; s2) echo 42 ;; s3) echo 43 ;; s4) echo 44 ;; s5) echo 45 ;;
    *) cl_err "unknown host '$1'"; return 1 ;;
  esac
}
cl_ip() {
  local o; o="$(cl_octet "$1")" || return 1
  if [[ "$MODE" == netns ]]; then echo "$CLUSTER_NET.$o"; else echo "127.0.0.$o"; fi
}
cl_ns() { echo "${CL_PREFIX}-$1"; }

# cl_exec HOST CMD...: run CMD in the host's namespace (or directly in loopback mode).
cl_exec() {
  local h="$1"; shift
  if [[ "$MODE" == netns ]]; then ip netns exec "$(cl_ns "$h")" "$@"; else "$@"; fi
}

# tcp_open IP PORT: something accepts on IP:PORT (from the root namespace, over the bridge).
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

cl_pidfile() { echo "$CLUSTER_STATE/pids/$1.pid"; }
cl_read_pid() { local f; f="$(cl_pidfile "$1")"; [[ -s "$f" ]] && tr -dc '0-9' <"$f"; }
# cl_alive NAME MARKER: the recorded pid lives and its command line contains MARKER.
cl_alive() {
  local pid; pid="$(cl_read_pid "$1")" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

KAFKA_LIBS="$STACK_HOME/kafka-$(kafka_version)-$(sha256sum "$STACK_DIR/kafka/pom.xml" | cut -c1-12)/libs"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

kafka_bootstrap() {
  local n out=()
  for n in "${KAFKA_NODES[@]}"; do out+=("$(cl_ip "k$n"):$CL_KAFKA_PORT"); done
  (IFS=,; echo "${out[*]}")
}
redis_nodes() {
  local p out=()
  for p in "${REDIS_PORTS[@]}"; do out+=("$(cl_ip r):$p"); done
  (IFS=,; echo "${out[*]}")
}
