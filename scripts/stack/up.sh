#!/usr/bin/env bash
# Install (if missing) and start the local stack on loopback: Kafka, Redis, Jaeger v2.
#   bash scripts/stack/up.sh [kafka|redis|jaeger]...     (default: all three)
# Idempotent: a service that is already running (pid alive + port answering) is skipped.
# Downloads/builds are cached in $TUSK_STACK_HOME (default ~/.cache/tusk-collector);
# data, pid files and logs live in $TUSK_STACK_STATE (default <repo>/.stack).
# Kafka also serves SASL_SSL (PLAIN, SCRAM-SHA-512) on :9094 and mTLS on :9095; certificates and credentials
# are generated into $TUSK_STACK_STATE/kafka/secure/ and published in secure.json (scripts/stack/README.md).
# Env: TUSK_KAFKA_PORT / _CONTROLLER_PORT / _SASL_SSL_PORT / _SSL_PORT move Kafka's ports (lib.sh);
#      TUSK_STACK_SMOKE=0 skips the kafkajs smoke test that runs after a fresh Kafka format;
#      TUSK_STACK_SMOKE=1 runs it on every start.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { echo "usage: $0 [kafka|redis|jaeger]...  (default: all)"; }
parse_services "$@" || { usage >&2; exit 2; }

mkdir -p "$STACK_HOME" "$STACK_STATE"
T_ALL=$(now_ms)

# One up.sh at a time per state dir (several engineers/test runs may call it at once).
# Every long-lived child is started with `8>&-`: a daemon that inherited fd 8 would hold
# this lock for as long as it lives.
exec 8>"$STACK_STATE/.up.lock"
if ! flock -n 8; then
  log "another up.sh is running for $STACK_STATE; waiting for it (up to 20 min)..."
  flock -w 1200 8 || { err "gave up waiting for the other up.sh"; exit 1; }
  log "lock acquired after $(elapsed "$T_ALL")"
  T_ALL=$(now_ms)
fi

want() { local s; for s in "${SERVICES[@]}"; do [[ "$s" == "$1" ]] && return 0; done; return 1; }

# ---------------------------------------------------------------------------
# Generic helpers
# ---------------------------------------------------------------------------

APT_UPDATED=0
apt_install() { # apt_install PKG... : install Debian packages, `apt-get update` only if needed
  command -v apt-get >/dev/null || { err "apt-get not available: install $* by hand"; return 1; }
  local alog="$STACK_STATE/apt.log"
  log "apt-get install $* ..."
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$alog" 2>&1; then
    if [[ $APT_UPDATED -eq 0 ]]; then
      log "install failed; running apt-get update and retrying (log: $alog)"
      DEBIAN_FRONTEND=noninteractive apt-get update >>"$alog" 2>&1 || true
      APT_UPDATED=1
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$alog" 2>&1 \
        || { err "apt-get install $* failed:"; tail -n 20 "$alog" >&2; return 1; }
    else
      err "apt-get install $* failed:"; tail -n 20 "$alog" >&2; return 1
    fi
  fi
}

# Fail if one of the service's ports is taken by a process that is not ours.
check_ports_free() {
  local svc="$1" p owner
  for p in $(svc_ports "$svc"); do
    if port_open "$p"; then
      owner="$(port_owner "$p")"
      err "$svc: port 127.0.0.1:$p is already in use${owner:+ by $owner} (not started by this script)"
      return 1
    fi
  done
}

# ---------------------------------------------------------------------------
# Jaeger build (slow the first time: started in the background first thing)
# ---------------------------------------------------------------------------
JAEGER_BIN="$STACK_HOME/bin/jaeger-$(jaeger_module_version)"
JAEGER_BUILD_PID=""
JAEGER_BUILD_LOG="$STACK_STATE/jaeger/build.log"

jaeger_build_start() {
  [[ -x "$JAEGER_BIN" ]] && return 0
  if ! command -v go >/dev/null; then
    err "jaeger: 'go' (>= 1.24) is not on PATH; cannot build Jaeger from the Go module proxy"
    return 1
  fi
  mkdir -p "$(dirname "$JAEGER_BUILD_LOG")"
  log "jaeger: binary not cached -> building Jaeger v2 ($(jaeger_module_version)) from the Go module proxy in the background"
  log "jaeger: first build takes ~5-10 min on 2 cores (downloads ~1 GB of modules); log: $JAEGER_BUILD_LOG"
  TUSK_STACK_HOME="$STACK_HOME" bash "$STACK_DIR/jaeger/build.sh" >"$JAEGER_BUILD_LOG" 2>&1 8>&- &
  JAEGER_BUILD_PID=$!
}

jaeger_build_wait() {
  [[ -x "$JAEGER_BIN" && -z "$JAEGER_BUILD_PID" ]] && return 0
  if [[ -n "$JAEGER_BUILD_PID" ]]; then
    local t last=0 rc=0
    t=$(now_ms)
    log "jaeger: waiting for the build to finish..."
    while kill -0 "$JAEGER_BUILD_PID" 2>/dev/null; do
      sleep 1
      if (( $(now_ms) - last >= 30000 )); then
        last=$(now_ms)
        log "jaeger: still building ($(elapsed "$t") waited; $(grep -c '^go: downloading' "$JAEGER_BUILD_LOG" 2>/dev/null || echo 0) modules downloaded; last: $(grep '^\[jaeger\]' "$JAEGER_BUILD_LOG" | tail -1 | cut -c1-80))"
      fi
    done
    wait "$JAEGER_BUILD_PID" || rc=$?
    JAEGER_BUILD_PID=""
    if [[ $rc -ne 0 || ! -x "$JAEGER_BIN" ]]; then
      err "jaeger: build failed (exit $rc). Last lines of $JAEGER_BUILD_LOG:"
      grep -v -E '^go: (downloading|added|upgraded)' "$JAEGER_BUILD_LOG" | tail -n 30 >&2
      return 1
    fi
    ok "jaeger: $(grep -o 'built .* in [0-9]*s' "$JAEGER_BUILD_LOG" | tail -1)"
  fi
}

# ---------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------
KAFKA_VERSION="$(kafka_version)"
KAFKA_POM_KEY="$(sha256sum "$STACK_DIR/kafka/pom.xml" | cut -c1-12)"
KAFKA_LIBS="$STACK_HOME/kafka-$KAFKA_VERSION-$KAFKA_POM_KEY/libs"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

ensure_java() {
  if ! command -v "$JAVA" >/dev/null; then
    log "kafka: no java found -> installing openjdk-17-jre-headless"
    apt_install openjdk-17-jre-headless || return 1
    JAVA=java
  fi
  local major
  major="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = \([0-9]*\).*/\1/p')"
  if [[ -z "$major" || "$major" -lt 17 ]]; then
    err "kafka: Kafka $KAFKA_VERSION needs Java >= 17, found '$major' ($JAVA); set JAVA_HOME"
    return 1
  fi
}

kafka_install() {
  [[ -f "$KAFKA_LIBS/.complete" ]] && return 0
  ensure_java || return 1
  command -v mvn >/dev/null || { log "kafka: no mvn found -> installing maven"; apt_install maven || return 1; }
  local t; t=$(now_ms)
  local tmp="$KAFKA_LIBS.tmp.$$" mlog="$STACK_STATE/kafka/mvn.log"
  mkdir -p "$STACK_STATE/kafka" "$(dirname "$KAFKA_LIBS")"
  log "kafka: fetching Kafka $KAFKA_VERSION jars from Maven Central (first run only, ~55 MB)..."
  rm -rf "$tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$STACK_DIR/kafka/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mlog" 2>&1; then
    err "kafka: mvn dependency:copy-dependencies failed; log: $mlog"
    tail -n 30 "$mlog" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  touch "$KAFKA_LIBS/.complete"
  ok "kafka: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars cached in $KAFKA_LIBS ($(elapsed "$t"))"
}

kafka_java() { # kafka_java MAINCLASS ARGS... (foreground)
  "$JAVA" -Dkafka.logs.dir="$STACK_STATE/kafka/logs" \
    -Dlog4j2.configurationFile="$STACK_DIR/kafka/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" "$@"
}

kafka_metadata_ok() {
  node -e '
    const path = process.argv[1];
    let kafkajs;
    try { kafkajs = require(require.resolve("kafkajs", { paths: [path] })); } catch (e) { process.exit(3); }
    const { Kafka, logLevel } = kafkajs;
    const admin = new Kafka({ clientId: "stack-ready", brokers: ["127.0.0.1:" + process.argv[2]], logLevel: logLevel.NOTHING,
      connectionTimeout: 1000, requestTimeout: 3000, retry: { retries: 0 } }).admin();
    const t = setTimeout(() => process.exit(1), 5000);
    admin.connect().then(() => admin.describeCluster()).then((c) => {
      if (!c.brokers.length) throw new Error("no brokers");
      return admin.listTopics();
    }).then(() => admin.disconnect()).then(() => { clearTimeout(t); process.exit(0); }, () => process.exit(1));
  ' "$REPO_ROOT" "$KAFKA_PORT"
}

kafka_ready() {
  local rc=0
  kafka_metadata_ok || rc=$?
  if [[ $rc -eq 3 ]]; then
    # kafkajs not installed yet (no `npm ci`): fall back to the broker's own log line.
    grep -q 'Kafka Server started' "$(svc_log kafka)" 2>/dev/null
    return
  fi
  return $rc
}

# --- Secured listeners: SASL_SSL (PLAIN, SCRAM-SHA-512) and SSL with client certificates (mTLS) ---------
# Certificates and passwords are made once per state dir (kafka/secure/, kept until `down.sh --purge kafka`);
# secure.json / secure.env (what tests read) are rewritten at every start, with the ports of that start.
KAFKA_SECURE_DIR="$STACK_STATE/kafka/secure"
KAFKA_PLAIN_USER=tusk-plain
KAFKA_SCRAM_USER=tusk-scram

# kafka_secure_gen: a throwaway CA, a broker certificate for 127.0.0.1/localhost, a client certificate, a
# second CA nothing trusts (negative tests), and random passwords for the PLAIN and SCRAM users.
kafka_secure_gen() {
  local d="$KAFKA_SECURE_DIR" tmp t glog
  [[ -f "$d/.complete" ]] && return 0
  command -v openssl >/dev/null || apt_install openssl || return 1
  t=$(now_ms); tmp="$d.tmp.$$"; glog="$STACK_STATE/kafka/logs/secure-gen.log"
  rm -rf "$tmp"; mkdir -p "$tmp" "$(dirname "$glog")"
  log "kafka: generating the secured listeners' CA, certificates and passwords into $d"
  if ! (
    set -euo pipefail; cd "$tmp"; umask 077
    ca() { # ca NAME CN
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$2" -keyout "$1.key" -out "$1.pem" \
        -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
    }
    leaf() { # leaf NAME CN EXTENSIONS: a key and a certificate signed by ca.pem
      openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr"
      printf '%s\n' "$3" 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile "$1.ext" -out "$1.pem"
      rm -f "$1.csr" "$1.ext"
    }
    ca ca 'tusk-collector stack CA (throwaway)'
    leaf broker localhost $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth'
    leaf client tusk-client 'extendedKeyUsage=clientAuth'
    ca untrusted-ca 'tusk-collector untrusted CA (negative tests)'
    rm -f ca.srl untrusted-ca.key
    cat broker.key broker.pem ca.pem >broker-keystore.pem   # Kafka PEM keystore: key + chain
    openssl rand -hex 16 >plain.password
    openssl rand -hex 16 >scram.password
  ) >"$glog" 2>&1; then
    err "kafka: certificate generation failed; log: $glog"; tail -n 20 "$glog" >&2; rm -rf "$tmp"; return 1
  fi
  rm -rf "$d"; mv "$tmp" "$d"; touch "$d/.complete"
  ok "kafka: secured listeners' certificates ready ($(elapsed "$t"))"
}

json_str() { local s="${1//\\/\\\\}"; printf '"%s"' "${s//\"/\\\"}"; }

# kafka_render_props FILE: the broker config from the template (ports, secure dir, PLAIN user), plus
# secure.json and secure.env, the generated file tests and shells read the secured endpoints from.
kafka_render_props() {
  local out="$1" d="$KAFKA_SECURE_DIR" s plain_pw scram_pw
  plain_pw="$(<"$d/plain.password")"; scram_pw="$(<"$d/scram.password")"
  s="$(<"$STACK_DIR/kafka/server.properties")"
  s="${s//@KAFKA_PORT@/"$KAFKA_PORT"}"
  s="${s//@KAFKA_CONTROLLER_PORT@/"$KAFKA_CONTROLLER_PORT"}"
  s="${s//@KAFKA_SASL_SSL_PORT@/"$KAFKA_SASL_SSL_PORT"}"
  s="${s//@KAFKA_SSL_PORT@/"$KAFKA_SSL_PORT"}"
  s="${s//@SECURE_DIR@/"$d"}"
  s="${s//@PLAIN_USER@/"$KAFKA_PLAIN_USER"}"
  s="${s//@PLAIN_PASSWORD@/"$plain_pw"}"
  printf '%s\n\nlog.dirs=%s\n' "$s" "$STACK_STATE/kafka/data" >"$out"
  chmod 600 "$out"
  ( umask 077
    cat >"$d/secure.json.tmp" <<JSON
{
  "plaintext_brokers": [$(json_str "127.0.0.1:$KAFKA_PORT")],
  "sasl_ssl_brokers": [$(json_str "127.0.0.1:$KAFKA_SASL_SSL_PORT")],
  "ssl_brokers": [$(json_str "127.0.0.1:$KAFKA_SSL_PORT")],
  "ca_file": $(json_str "$d/ca.pem"),
  "client_cert_file": $(json_str "$d/client.pem"),
  "client_key_file": $(json_str "$d/client.key"),
  "untrusted_ca_file": $(json_str "$d/untrusted-ca.pem"),
  "plain": { "username": $(json_str "$KAFKA_PLAIN_USER"), "password": $(json_str "$plain_pw") },
  "scram_sha_512": { "username": $(json_str "$KAFKA_SCRAM_USER"), "password": $(json_str "$scram_pw") }
}
JSON
    mv "$d/secure.json.tmp" "$d/secure.json"
    printf '%s\n' "# Generated by scripts/stack/up.sh at every Kafka start: the secured listeners (see scripts/stack/README.md)." \
      "KAFKA_SECURE_SASL_SSL_BROKERS=127.0.0.1:$KAFKA_SASL_SSL_PORT" "KAFKA_SECURE_SSL_BROKERS=127.0.0.1:$KAFKA_SSL_PORT" \
      "KAFKA_SECURE_CA_FILE=$(printf '%q' "$d/ca.pem")" "KAFKA_SECURE_CLIENT_CERT_FILE=$(printf '%q' "$d/client.pem")" \
      "KAFKA_SECURE_CLIENT_KEY_FILE=$(printf '%q' "$d/client.key")" "KAFKA_SECURE_UNTRUSTED_CA_FILE=$(printf '%q' "$d/untrusted-ca.pem")" \
      "KAFKA_SECURE_PLAIN_USERNAME=$KAFKA_PLAIN_USER" "KAFKA_SECURE_PLAIN_PASSWORD=$plain_pw" \
      "KAFKA_SECURE_SCRAM_USERNAME=$KAFKA_SCRAM_USER" "KAFKA_SECURE_SCRAM_PASSWORD=$scram_pw" >"$d/secure.env"
  )
}

# What scram.applied must hold once the SCRAM user exists in this cluster's metadata.
kafka_scram_key() { echo "$1 $(printf '%s:%s' "$KAFKA_SCRAM_USER" "$(<"$KAFKA_SECURE_DIR/scram.password")" | sha256sum | cut -c1-16)"; }

# kafka_scram_ensure CLUSTER_ID: a state dir formatted before the secured listeners existed (or whose
# secure/ was regenerated) gets its SCRAM user through the running broker (AlterUserScramCredentials).
kafka_scram_ensure() {
  local key; key="$(kafka_scram_key "$1")"
  [[ "$(cat "$KAFKA_SECURE_DIR/scram.applied" 2>/dev/null)" == "$key" ]] && return 0
  log "kafka: creating SCRAM-SHA-512 user $KAFKA_SCRAM_USER in the running cluster (state dir formatted without it)"
  if ! kafka_java org.apache.kafka.tools.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --alter \
      --add-config "SCRAM-SHA-512=[iterations=8192,password=$(<"$KAFKA_SECURE_DIR/scram.password")]" \
      --entity-type users --entity-name "$KAFKA_SCRAM_USER" >>"$STACK_STATE/kafka/logs/secure-gen.log" 2>&1; then
    err "kafka: could not create the SCRAM user; log: $STACK_STATE/kafka/logs/secure-gen.log"
    tail -n 20 "$STACK_STATE/kafka/logs/secure-gen.log" >&2; return 1
  fi
  echo "$key" >"$KAFKA_SECURE_DIR/scram.applied"
}

# kafka_secure_ready: every secured way in works (kafkajs: SASL_SSL PLAIN, SASL_SSL SCRAM-SHA-512, mTLS);
# without kafkajs installed, only that the two ports answer.
kafka_secure_ready() {
  local rc=0
  node "$STACK_DIR/kafka-secure-probe.js" "$KAFKA_SECURE_DIR/secure.json" "$REPO_ROOT" || rc=$?
  if [[ $rc -eq 3 ]]; then port_open "$KAFKA_SASL_SSL_PORT" && port_open "$KAFKA_SSL_PORT"; return; fi
  return $rc
}

kafka_up() {
  local t dir props pid fresh=0
  t=$(now_ms)
  dir="$STACK_STATE/kafka"
  if svc_running kafka; then
    ok "kafka: already running (pid $(read_pid kafka), 127.0.0.1:$KAFKA_PORT)"
    if ! port_open "$KAFKA_SASL_SSL_PORT" || ! port_open "$KAFKA_SSL_PORT"; then
      warn "kafka: the running broker has no secured listeners on :$KAFKA_SASL_SSL_PORT/:$KAFKA_SSL_PORT (started before they existed);" \
        "restart it to get them: bash scripts/stack/down.sh kafka && bash scripts/stack/up.sh kafka"
    fi
    return 0
  fi
  if pid_alive kafka; then
    # Process alive but port closed: still starting, or wedged. Give it a chance, then restart.
    log "kafka: pid $(read_pid kafka) alive but port $KAFKA_PORT closed; waiting up to 60s"
    if WAIT_PID="$(read_pid kafka)" wait_until 60 "kafka port" port_open "$KAFKA_PORT"; then
      ok "kafka: running (pid $(read_pid kafka))"; return 0
    fi
    stop_pid kafka 20 || true
  fi
  rm -f "$(svc_pidfile kafka)"
  kafka_install || return 1
  ensure_java || return 1
  check_ports_free kafka || return 1
  mkdir -p "$dir/data" "$dir/logs"
  props="$dir/server.properties"
  kafka_secure_gen || return 1
  kafka_render_props "$props" || return 1

  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cid
    cid="$(cat "$dir/cluster.id" 2>/dev/null || true)"
    if [[ -z "$cid" ]]; then
      cid="$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$dir/logs/format.log" | tail -1)"
      echo "$cid" >"$dir/cluster.id"
    fi
    log "kafka: formatting KRaft storage (cluster id $cid, SCRAM-SHA-512 user $KAFKA_SCRAM_USER)"
    if ! kafka_java kafka.tools.StorageTool format -t "$cid" -c "$props" --ignore-formatted \
        --add-scram "SCRAM-SHA-512=[name=$KAFKA_SCRAM_USER,iterations=8192,password=$(<"$KAFKA_SECURE_DIR/scram.password")]" \
        >>"$dir/logs/format.log" 2>&1; then
      err "kafka: storage format failed"; tail -n 20 "$dir/logs/format.log" >&2; return 1
    fi
    kafka_scram_key "$cid" >"$KAFKA_SECURE_DIR/scram.applied"
    fresh=1
  fi

  log "kafka: starting Kafka $KAFKA_VERSION (KRaft, broker 127.0.0.1:$KAFKA_PORT, controller :$KAFKA_CONTROLLER_PORT)"
  # shellcheck disable=SC2086
  # shellcheck disable=SC2016  # $$/$0/$@ expand in the child shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$(svc_pidfile kafka)" \
    "$JAVA" $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$dir/logs" \
    -Dlog4j2.configurationFile="$STACK_DIR/kafka/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$props" \
    >"$dir/logs/kafka.out" 2>&1 </dev/null 8>&- &
  wait_until 10 "kafka pid file" test -s "$(svc_pidfile kafka)" || { show_logs kafka; return 1; }
  pid="$(read_pid kafka)"
  if ! WAIT_PID="$pid" wait_until 120 "kafka port $KAFKA_PORT" port_open "$KAFKA_PORT" \
     || ! WAIT_PID="$pid" wait_until 60 "kafka metadata request" kafka_ready; then
    show_logs kafka; return 1
  fi
  kafka_scram_ensure "$(cat "$dir/cluster.id" 2>/dev/null || sed -n 's/^cluster.id=//p' "$dir/data/meta.properties")" || { show_logs kafka; return 1; }
  if ! WAIT_PID="$pid" wait_until 60 "kafka secured listeners (SASL_SSL :$KAFKA_SASL_SSL_PORT, mTLS :$KAFKA_SSL_PORT)" kafka_secure_ready; then
    node "$STACK_DIR/kafka-secure-probe.js" "$KAFKA_SECURE_DIR/secure.json" "$REPO_ROOT" --verbose >&2 || true
    show_logs kafka; return 1
  fi
  ok "kafka: ready (pid $pid, 127.0.0.1:$KAFKA_PORT, SASL_SSL :$KAFKA_SASL_SSL_PORT, mTLS :$KAFKA_SSL_PORT, $(elapsed "$t"))"

  local smoke="${TUSK_STACK_SMOKE:-auto}"
  if [[ "$smoke" == 1 || ( "$smoke" == auto && $fresh -eq 1 ) ]]; then
    if node -e 'require.resolve("kafkajs",{paths:[process.argv[1]]})' "$REPO_ROOT" 2>/dev/null; then
      log "kafka: fresh broker -> kafkajs smoke test (create topic, idempotent acks=-1 produce, group consume, commit)"
      if ! (cd "$REPO_ROOT" && KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" node "$STACK_DIR/kafka-smoke.js"); then
        err "kafka: kafkajs smoke test FAILED against Kafka $KAFKA_VERSION"; show_logs kafka; return 1
      fi
    else
      warn "kafka: kafkajs not installed (run npm ci): skipping the smoke test"
    fi
  fi
}

# ---------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------
REDIS_DISTRO_CONF=/etc/redis/redis.conf

# Stop and disable the Debian redis-server service (it would own 6379).
redis_stop_distro() {
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl disable --now redis-server >/dev/null 2>&1 || true
  fi
  if [[ -x /etc/init.d/redis-server ]]; then
    /etc/init.d/redis-server stop >/dev/null 2>&1 || true
    if command -v update-rc.d >/dev/null; then update-rc.d redis-server disable >/dev/null 2>&1 || true; fi
  fi
  # Last resort: the distro's pid file.
  local p
  p="$(cat /run/redis/redis-server.pid 2>/dev/null || true)"
  if [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null || true; fi
  wait_until 15 "distro redis to stop" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT) 2>/dev/null" || true
}

redis_install() {
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then return 0; fi
  local t; t=$(now_ms)
  log "redis: redis-server not found -> installing from Debian"
  apt_install redis-server || return 1
  ok "redis: installed $(redis-server --version | awk '{sub(/^v=/,"",$3); print $3}') ($(elapsed "$t"))"
  # apt may have started the distro service on 6379 (policy-rc.d permitting): stop/disable it.
  redis_stop_distro
}

redis_info() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" INFO server 2>/dev/null | tr -d '\r' | sed -n "s/^$1://p"; }

redis_up() {
  local t dir pid
  t=$(now_ms)
  dir="$STACK_STATE/redis"
  mkdir -p "$dir"
  if svc_running redis; then
    ok "redis: already running (pid $(read_pid redis), 127.0.0.1:$REDIS_PORT)"
    return 0
  fi
  redis_install || return 1
  if port_open "$REDIS_PORT"; then
    local other_pid other_conf
    other_pid="$(redis_info process_id)"
    other_conf="$(redis_info config_file)"
    if [[ -n "$other_pid" && "$other_conf" == "$REDIS_DISTRO_CONF" ]]; then
      warn "redis: the Debian redis-server service (pid $other_pid) owns port $REDIS_PORT: stopping and disabling it"
      redis_stop_distro
    elif [[ -n "$other_pid" && "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" CONFIG GET dir 2>/dev/null | tr -d '\r' | sed -n 2p)" == "$dir" ]]; then
      # Ours (same state dir) but the pid file was lost: adopt it.
      echo "$other_pid" >"$(svc_pidfile redis)"
      ok "redis: already running (pid $other_pid, adopted, 127.0.0.1:$REDIS_PORT)"
      return 0
    fi
  fi
  check_ports_free redis || return 1
  rm -f "$(svc_pidfile redis)"
  log "redis: starting $(redis-server --version | awk '{sub(/^v=/,"",$3); print $3}') on 127.0.0.1:$REDIS_PORT (no persistence)"
  if ! redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize yes --dir "$dir" --pidfile "$(svc_pidfile redis)" --logfile "$(svc_log redis)" \
      >>"$dir/redis.out" 2>&1 8>&-; then
    err "redis: redis-server failed to start"; cat "$dir/redis.out" >&2; show_logs redis; return 1
  fi
  if ! wait_until 10 "redis pid file" test -s "$(svc_pidfile redis)"; then show_logs redis; return 1; fi
  pid="$(read_pid redis)"
  if ! WAIT_PID="$pid" wait_until 30 "redis ping" bash -c "[[ \"\$(redis-cli -h 127.0.0.1 -p $REDIS_PORT ping 2>/dev/null)\" == PONG ]]"; then
    show_logs redis; return 1
  fi
  ok "redis: ready (pid $pid, 127.0.0.1:$REDIS_PORT, $(elapsed "$t"))"
}

# ---------------------------------------------------------------------------
# Jaeger
# ---------------------------------------------------------------------------
# Minimal thrift-binary jaeger.Batch{process{serviceName:"stack-ready"}, spans:[]}
jaeger_thrift_ok() {
  local code
  code="$(printf '\x0c\x00\x01\x0b\x00\x01\x00\x00\x00\x0bstack-ready\x00\x0f\x00\x02\x0c\x00\x00\x00\x00\x00' \
    | curl -s -o /dev/null -w '%{http_code}' --max-time 3 -H 'Content-Type: application/x-thrift' \
        --data-binary @- "http://127.0.0.1:$JAEGER_THRIFT_PORT/api/traces")" || return 1
  [[ "$code" == 2* ]]
}
jaeger_query_ok() {
  curl -fsS -o /dev/null --max-time 3 "http://127.0.0.1:$JAEGER_QUERY_PORT/api/services"
}

jaeger_up() {
  local t dir pid
  t=$(now_ms)
  dir="$STACK_STATE/jaeger"
  mkdir -p "$dir"
  if svc_running jaeger; then
    ok "jaeger: already running (pid $(read_pid jaeger), query 127.0.0.1:$JAEGER_QUERY_PORT)"
    return 0
  fi
  command -v curl >/dev/null || apt_install curl || return 1
  jaeger_build_wait || return 1
  if pid_alive jaeger; then stop_pid jaeger 10 || true; fi
  rm -f "$(svc_pidfile jaeger)"
  check_ports_free jaeger || return 1
  log "jaeger: starting Jaeger v2 ($(jaeger_module_version)) with $STACK_DIR/jaeger/config.yaml"
  # shellcheck disable=SC2016  # $$/$0/$@ expand in the child shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$(svc_pidfile jaeger)" \
    "$JAEGER_BIN" --config "$STACK_DIR/jaeger/config.yaml" \
    >"$(svc_log jaeger)" 2>&1 </dev/null 8>&- &
  wait_until 10 "jaeger pid file" test -s "$(svc_pidfile jaeger)" || { show_logs jaeger; return 1; }
  pid="$(read_pid jaeger)"
  if ! WAIT_PID="$pid" wait_until 60 "jaeger query API /api/services" jaeger_query_ok \
     || ! WAIT_PID="$pid" wait_until 30 "jaeger thrift_http POST /api/traces" jaeger_thrift_ok; then
    show_logs jaeger; return 1
  fi
  ok "jaeger: ready (pid $pid, query 127.0.0.1:$JAEGER_QUERY_PORT, thrift 127.0.0.1:$JAEGER_THRIFT_PORT, otlp 127.0.0.1:$JAEGER_OTLP_GRPC_PORT/$JAEGER_OTLP_HTTP_PORT, $(elapsed "$t"))"
}

# ---------------------------------------------------------------------------
log "state: $STACK_STATE   cache: $STACK_HOME   services: ${SERVICES[*]}"
FAILED=()

# Kick off the slow Jaeger build before anything else.
if want jaeger && ! svc_running jaeger; then
  jaeger_build_start || FAILED+=(jaeger)
fi
cleanup() { if [[ -n "$JAEGER_BUILD_PID" ]] && kill -0 "$JAEGER_BUILD_PID" 2>/dev/null; then kill "$JAEGER_BUILD_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT

for svc in "${SERVICES[@]}"; do
  [[ " ${FAILED[*]} " == *" $svc "* ]] && continue
  # Run each in a subshell-free way but keep going on failure, so one broken service
  # does not prevent the others from starting.
  if ! "${svc}_up"; then
    err "$svc: FAILED to start"
    FAILED+=("$svc")
  fi
done

if [[ ${#FAILED[@]} -gt 0 ]]; then
  err "stack: failed: ${FAILED[*]} (total $(elapsed "$T_ALL"))"
  exit 1
fi
ok "stack: up: ${SERVICES[*]} ($(elapsed "$T_ALL"))"
