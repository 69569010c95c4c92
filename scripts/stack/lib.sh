# shellcheck shell=bash
# Shared helpers for scripts/stack/*.sh (sourced, not executed).
#
# Environment:
#   TUSK_STACK_HOME   cache for downloads/builds   (default ~/.cache/tusk-collector)
#   TUSK_STACK_STATE  runtime state: data, pids, logs (default <repo>/.stack)
#   TUSK_KAFKA_PORT, TUSK_KAFKA_CONTROLLER_PORT, TUSK_KAFKA_SASL_SSL_PORT, TUSK_KAFKA_SSL_PORT
#                     Kafka's loopback ports (default 9092 9093 9094 9095), for a private second
#                     instance next to the shared one (use with its own TUSK_STACK_STATE)

STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STACK_DIR/../.." && pwd)"
STACK_HOME="${TUSK_STACK_HOME:-$HOME/.cache/tusk-collector}"
STACK_STATE="${TUSK_STACK_STATE:-$REPO_ROOT/.stack}"

ALL_SERVICES=(kafka redis jaeger)

# Ports (loopback only).
KAFKA_PORT="${TUSK_KAFKA_PORT:-9092}"                       # PLAINTEXT
KAFKA_CONTROLLER_PORT="${TUSK_KAFKA_CONTROLLER_PORT:-9093}"  # KRaft controller (PLAINTEXT)
KAFKA_SASL_SSL_PORT="${TUSK_KAFKA_SASL_SSL_PORT:-9094}"      # SASL_SSL: PLAIN + SCRAM-SHA-512 over TLS
KAFKA_SSL_PORT="${TUSK_KAFKA_SSL_PORT:-9095}"                # SSL with client certificates required (mTLS)
REDIS_PORT=6379
JAEGER_QUERY_PORT=16686
JAEGER_THRIFT_PORT=14268
JAEGER_OTLP_GRPC_PORT=14317
JAEGER_OTLP_HTTP_PORT=14318

# Java heap for the single broker.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms512m -Xmx1g}"

if [[ -t 1 ]]; then
  _C_B=$'\e[1m'; _C_G=$'\e[32m'; _C_Y=$'\e[33m'; _C_R=$'\e[31m'; _C_0=$'\e[0m'
else
  _C_B=; _C_G=; _C_Y=; _C_R=; _C_0=
fi

log()  { printf '%s[stack]%s %s\n' "$_C_B" "$_C_0" "$*"; }
ok()   { printf '%s[stack]%s %s%s%s\n' "$_C_B" "$_C_0" "$_C_G" "$*" "$_C_0"; }
warn() { printf '%s[stack]%s %s%s%s\n' "$_C_B" "$_C_0" "$_C_Y" "$*" "$_C_0" >&2; }
err()  { printf '%s[stack]%s %s%s%s\n' "$_C_B" "$_C_0" "$_C_R" "$*" "$_C_0" >&2; }

now_ms() { date +%s%3N; }
elapsed() { # elapsed START_MS -> "12.3s"
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%ds' $((d / 1000)) $(((d % 1000) / 100))
}

# Validate service names given on the command line; default to all.
parse_services() {
  local s
  SERVICES=()
  if [[ $# -eq 0 ]]; then SERVICES=("${ALL_SERVICES[@]}"); return 0; fi
  for s in "$@"; do
    case "$s" in
      kafka|redis|jaeger) SERVICES+=("$s") ;;
      all) SERVICES=("${ALL_SERVICES[@]}") ;;
      -h|--help) return 2 ;;
      *) err "unknown service '$s' (expected: kafka redis jaeger)"; return 2 ;;
    esac
  done
}

svc_dir()     { echo "$STACK_STATE/$1"; }
svc_pidfile() { echo "$STACK_STATE/$1/$1.pid"; }
svc_log() {
  case "$1" in
    kafka)  echo "$STACK_STATE/kafka/logs/server.log" ;;
    redis)  echo "$STACK_STATE/redis/redis.log" ;;
    jaeger) echo "$STACK_STATE/jaeger/jaeger.log" ;;
  esac
}
# Extra log with the process's stdout/stderr (JVM errors etc).
svc_out() {
  case "$1" in
    kafka)  echo "$STACK_STATE/kafka/logs/kafka.out" ;;
    *)      svc_log "$1" ;;
  esac
}
svc_port() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" ;; redis) echo "$REDIS_PORT" ;; jaeger) echo "$JAEGER_QUERY_PORT" ;;
  esac
}
# All ports a service binds (used to detect conflicts).
svc_ports() {
  case "$1" in
    kafka)  echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT $KAFKA_SASL_SSL_PORT $KAFKA_SSL_PORT" ;;
    redis)  echo "$REDIS_PORT" ;;
    jaeger) echo "$JAEGER_QUERY_PORT $JAEGER_THRIFT_PORT $JAEGER_OTLP_GRPC_PORT $JAEGER_OTLP_HTTP_PORT" ;;
  esac
}
# A word that must appear in /proc/PID/cmdline (guards against pid reuse).
svc_cmd_marker() {
  case "$1" in
    kafka) echo "kafka.Kafka" ;; redis) echo "redis-server" ;; jaeger) echo "jaeger" ;;
  esac
}

port_open() { # port_open PORT -> 0 if something accepts on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Print "pid/program" of whoever listens on 127.0.0.1:PORT (best effort).
port_owner() {
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*",pid=[0-9]*\).*/\1/p' | head -1
}

read_pid() { # read_pid SERVICE -> pid on stdout, or nothing
  local f; f="$(svc_pidfile "$1")"
  [[ -s "$f" ]] && tr -dc '0-9' <"$f"
}

# pid_alive SERVICE: the recorded pid exists and is the expected program.
pid_alive() {
  local pid; pid="$(read_pid "$1")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(svc_cmd_marker "$1")"
}

svc_running() { # pid alive and main port answering
  pid_alive "$1" && port_open "$(svc_port "$1")"
}

# Tail the logs of a failed service.
show_logs() {
  local svc="$1" f
  for f in "$(svc_log "$svc")" "$(svc_out "$svc")"; do
    if [[ -s "$f" ]]; then
      err "---- last 40 lines of $f ----"
      tail -n 40 "$f" >&2
      err "---- end of $f ----"
    fi
    [[ "$(svc_log "$svc")" == "$(svc_out "$svc")" ]] && break
  done
}

# wait_until TIMEOUT_S DESCRIPTION CMD... : poll CMD every 0.25s until it succeeds.
# Fails early if WAIT_PID is set and that process died.
wait_until() {
  local timeout="$1" what="$2"; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [[ -n "${WAIT_PID:-}" ]] && ! kill -0 "$WAIT_PID" 2>/dev/null; then
      err "$what: process $WAIT_PID exited"
      return 1
    fi
    if (( $(date +%s) >= deadline )); then
      err "$what: timed out after ${timeout}s"
      return 1
    fi
    sleep 0.25
  done
}

# Stop a service by its pid file: TERM, wait up to N s, then KILL.
stop_pid() {
  local svc="$1" timeout="${2:-30}" pid
  pid="$(read_pid "$svc")"
  if [[ -z "$pid" ]] || ! pid_alive "$svc"; then
    rm -f "$(svc_pidfile "$svc")"
    return 1
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(( $(date +%s) + timeout ))
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(date +%s) >= deadline )); then
      warn "$svc (pid $pid) did not stop after ${timeout}s: sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "$(svc_pidfile "$svc")"
  return 0
}

kafka_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$STACK_DIR/kafka/pom.xml" | head -1
}
jaeger_module_version() { echo "${JAEGER_MODULE_VERSION:-v1.76.0}"; }
