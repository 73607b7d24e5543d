#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller) for development and CI.
#
#   bash scripts/kafka.sh start    # resolve jars (first time), format storage (first time), start, wait until ready
#   bash scripts/kafka.sh stop     # SIGTERM, wait, SIGKILL if needed; waits until the port is closed
#   bash scripts/kafka.sh status   # prints "running"/"stopped"; exit 0 when running, 1 when stopped
#   bash scripts/kafka.sh jars     # resolves the jars (first time) and prints their directory, for
#                                  # brokers of its own that a tool starts elsewhere (`ordo chaos --kafka`
#                                  # runs one on another port with its own data dir; this one is not touched)
#
# The broker is assembled purely from Maven Central: a small generated pom.xml and
# `mvn dependency:copy-dependencies` put org.apache.kafka:kafka_2.13 (the broker, main class
# kafka.Kafka), org.apache.kafka:kafka-tools (console producer/consumer, topic command) and a
# log4j2 SLF4J binding, with their runtime dependencies, into .cache/kafka/jars/. Nothing is
# downloaded from anywhere else. Everything lives under <repo>/.cache/kafka/ (git-ignored):
#
#   jars/              classpath (fast path: skipped when already resolved for this version)
#   data/logs/         KRaft metadata + topic data (formatted once, kept across restarts)
#   server.properties  generated broker config (rewritten on each start)
#   log4j2.properties  generated logging config (broker)
#   tools-log4j2.properties  generated logging config for the CLI tools (WARN, to stderr)
#   kafka.log          broker stdout/stderr
#   kafka.pid          broker pid
#
# Listeners: PLAINTEXT://127.0.0.1:9092 (clients), CONTROLLER://127.0.0.1:9093 (KRaft quorum).
# auto.create.topics.enable=true: producing to / fetching metadata for an unknown topic creates it
# with num.partitions=3, replication factor 1, so tests need no separate topic-creation step;
# tests that want exact partition counts should still create their topics with the Admin API.
# Set KAFKA_AUTO_CREATE_TOPICS=false to turn that off (takes effect at the next start).
#
# One broker serves the port, whichever checkout of the project started it (a CI run in a fresh
# clone uses the broker the main checkout left running, and the other way round), and `stop` stops
# it. Each checkout has its own storage, though, a cluster of its own: had `start` then started
# this checkout's broker, every topic, committed offset and consumer group of the stopped one
# would be gone for the clients that reconnect (they never recover: "Unknown topic"). So `stop`
# records how another checkout's broker was started (in /tmp/ordo-kafka-9092.stopped) and the next
# `start` starts that broker again, same jars, config and data; only when its checkout is gone
# does it start this checkout's own.
#
# Env overrides: KAFKA_VERSION (default 4.4.0), KAFKA_AUTO_CREATE_TOPICS (default true),
# KAFKA_START_TIMEOUT (seconds, default 60), JAVA_HOME.
#
# Running the bundled command-line tools against the broker (same classpath), e.g.:
#   java -cp '.cache/kafka/jars/*' -Dlog4j2.configurationFile=.cache/kafka/tools-log4j2.properties \
#        org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:9092 --list
# Other tool classes: org.apache.kafka.tools.ConsoleProducer,
# org.apache.kafka.tools.consumer.ConsoleConsumer, org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
LOG4J_VERSION="2.25.5" # the log4j2 version kafka 4.4.0 itself depends on
HOST=127.0.0.1
PORT=9092
CONTROLLER_PORT=9093
START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
AUTO_CREATE="${KAFKA_AUTO_CREATE_TOPICS:-true}"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
BASE="$ROOT/.cache/kafka"
JARS="$BASE/jars"
STAMP="$BASE/jars.resolved"
DATA="$BASE/data"
LOGDIR="$DATA/logs"
PROPS="$BASE/server.properties"
LOG4J_CONF="$BASE/log4j2.properties"
TOOLS_LOG4J_CONF="$BASE/tools-log4j2.properties"
LOG="$BASE/kafka.log"
PIDFILE="$BASE/kafka.pid"
STOPPED="/tmp/ordo-kafka-$PORT.stopped" # machine-wide, like the port: see "One broker serves the port" above

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

say() { echo "kafka: $*"; }
die() { echo "kafka: ERROR: $*" >&2; exit 1; }

# --- .gitignore: make sure .cache/ is ignored (append only if missing) -------------------------
ensure_gitignore() {
  local gi="$ROOT/.gitignore"
  if ! { [[ -f "$gi" ]] && grep -qxE '/?\.cache/?' "$gi"; }; then
    if [[ -s "$gi" && -n "$(tail -c1 "$gi")" ]]; then echo >>"$gi"; fi
    echo ".cache/" >>"$gi"
  fi
}

# --- readiness: a real Kafka ApiVersions (v0) round trip, no JVM needed ------------------------
# Request: size=12 | api_key=18 | api_version=0 | correlation_id=0x4b41464b | client_id="ok".
# The broker answers with size(4) + the same correlation id(4) once it is processing requests.
broker_answers() {
  local reply
  reply=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x00\x00\x00\x0c\x00\x12\x00\x00\x4b\x41\x46\x4b\x00\x02ok" >&3
    head -c 8 <&3 | od -An -tx1 | tr -d " \n"
  ' "$HOST" "$PORT" 2>/dev/null) || return 1
  [[ "${reply:8:8}" == "4b41464b" ]]
}

port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$PORT" 2>/dev/null; }

# Sets BROKER_PROPS to the config file that process $1 runs kafka.Kafka with; fails for any
# other process. Bash builtins only, like broker_pid: a fork per process in /proc (tr, grep)
# made finding the broker take 10-30 s on a busy machine, in both stop and start.
read_broker_props() {
  local args i
  BROKER_PROPS=""
  mapfile -d '' args 2>/dev/null <"/proc/$1/cmdline" || return 1
  for ((i = 0; i + 1 < ${#args[@]}; i++)); do
    if [[ "${args[i]}" == kafka.Kafka ]]; then BROKER_PROPS="${args[i + 1]}"; return 0; fi
  done
  return 1
}

# pid of the broker: ours from the pid file if alive, else a java process started with our
# config file, else one this script started from another checkout of the project (same layout).
broker_pid() {
  local pid="" d other=""
  if [[ -f "$PIDFILE" ]]; then read -r pid <"$PIDFILE" || true; fi
  if [[ -n "$pid" ]] && read_broker_props "$pid"; then echo "$pid"; return 0; fi
  for d in /proc/[0-9]*; do
    read_broker_props "${d#/proc/}" || continue
    if [[ "$BROKER_PROPS" == "$PROPS" ]]; then echo "${d#/proc/}"; return 0; fi
    if [[ -z "$other" && "$BROKER_PROPS" == */.cache/kafka/server.properties ]]; then other="${d#/proc/}"; fi
  done
  if [[ -n "$other" ]]; then echo "$other"; return 0; fi
  return 1
}

# Before stopping broker $1: if another checkout started it, record its working directory and
# command line (one per line) so that `start` brings back that broker, with its data.
remember_stopped() {
  local props=""
  if read_broker_props "$1"; then props=$BROKER_PROPS; fi
  if [[ -z "$props" || "$props" == "$PROPS" ]]; then rm -f "$STOPPED"; return 0; fi
  { readlink "/proc/$1/cwd"; tr '\0' '\n' <"/proc/$1/cmdline"; } >"$STOPPED.tmp" && mv -f "$STOPPED.tmp" "$STOPPED"
  say "it was started from another checkout ($props); the next start restarts that broker, with its data"
}

# Starts the broker recorded by remember_stopped again, exactly as it was started; sets
# LAUNCHED_PID and LAUNCHED_LOG. Fails (the record forgotten) when there is none or its checkout is gone.
restart_stopped() {
  [[ -f "$STOPPED" ]] || return 1
  local lines cwd props dir i
  mapfile -t lines <"$STOPPED"
  rm -f "$STOPPED"
  cwd="${lines[0]:-}"
  local args=("${lines[@]:1}")
  props=""
  for ((i = 0; i + 1 < ${#args[@]}; i++)); do [[ "${args[i]}" == kafka.Kafka ]] && props="${args[i + 1]}"; done
  dir=$(dirname "${props:-/nonexistent/x}")
  if [[ -z "$props" || ! -f "$props" || ! -d "$dir/jars" || ! -d "$cwd" ]]; then
    say "the broker stopped last (${props:-unknown config}) is gone with its checkout; starting this checkout's"
    return 1
  fi
  say "restarting the broker stopped last, from another checkout ($props; log: $dir/kafka.log)…"
  cd "$cwd"
  setsid nohup "${args[@]}" >>"$dir/kafka.log" 2>&1 </dev/null &
  LAUNCHED_PID=$!
  cd - >/dev/null
  echo "$LAUNCHED_PID" >"$dir/kafka.pid"
  LAUNCHED_LOG="$dir/kafka.log"
}

# --- jars from Maven Central -------------------------------------------------------------------
resolve_jars() {
  local want="kafka_2.13+kafka-tools:$KAFKA_VERSION log4j-slf4j-impl:$LOG4J_VERSION"
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] && compgen -G "$JARS/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null; then
    return 0 # fast path
  fi
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch the Kafka jars from Maven Central)"
  say "resolving jars from Maven Central (kafka $KAFKA_VERSION)…"
  local t0=$SECONDS pom="$BASE/pom.xml" tmp="$BASE/jars.tmp"
  mkdir -p "$BASE"
  cat >"$pom" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.ordo</groupId>
  <artifactId>kafka-broker-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- the broker: kafka.Kafka, kafka.tools.StorageTool -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- console producer/consumer, TopicCommand (Kafka Connect is not needed) -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
      <exclusions>
        <exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion>
      </exclusions>
    </dependency>
    <!-- SLF4J 1.x (what Kafka uses) -> log4j2 binding, as in the Kafka distribution -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  rm -rf "$tmp"
  if ! mvn -B -q -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$BASE/mvn.log" 2>&1; then
    tail -n 40 "$BASE/mvn.log" >&2
    die "Maven could not resolve the Kafka jars (full output: $BASE/mvn.log)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
  rm -rf "$JARS" && mv "$tmp" "$JARS"
  echo "$want" >"$STAMP"
  say "resolved $(ls "$JARS" | wc -l) jars in $((SECONDS - t0))s"
}

# --- config ------------------------------------------------------------------------------------
write_config() {
  mkdir -p "$LOGDIR"
  cat >"$PROPS" <<EOF
# generated by scripts/kafka.sh — edits are overwritten on the next start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$LOGDIR
num.partitions=3
default.replication.factor=1
auto.create.topics.enable=$AUTO_CREATE
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
EOF
  cat >"$LOG4J_CONF" <<'EOF'
# generated by scripts/kafka.sh
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
EOF
  # quieter config for the command-line tools (StorageTool, TopicCommand, ConsoleProducer, ...)
  cat >"$TOOLS_LOG4J_CONF" <<'EOF'
# generated by scripts/kafka.sh
status = warn
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
EOF
}

format_storage() {
  if [[ -f "$LOGDIR/meta.properties" ]]; then return 0; fi
  local cid
  cid=$("$JAVA" -cp "$JARS/*" -Dlog4j2.configurationFile="$TOOLS_LOG4J_CONF" kafka.tools.StorageTool random-uuid | tail -n1)
  [[ -n "$cid" ]] || die "could not generate a cluster id"
  say "formatting storage in ${DATA#"$ROOT"/} (cluster id $cid)…"
  "$JAVA" -cp "$JARS/*" -Dlog4j2.configurationFile="$TOOLS_LOG4J_CONF" kafka.tools.StorageTool \
    format --config "$PROPS" --cluster-id "$cid" --ignore-formatted >"$BASE/format.log" 2>&1 \
    || { cat "$BASE/format.log" >&2; die "storage format failed"; }
}

# --- commands ----------------------------------------------------------------------------------
cmd_start() {
  ensure_gitignore
  if broker_answers; then
    rm -f "$STOPPED" # whatever was stopped, a broker is back
    say "already running on $HOST:$PORT"
    return 0
  fi
  local pid log="$LOG"
  if pid=$(broker_pid); then
    say "broker process $pid exists but does not answer yet; waiting…"
  else
    if port_open; then die "port $PORT is in use by something that does not speak Kafka"; fi
    if restart_stopped; then
      pid=$LAUNCHED_PID
      log=$LAUNCHED_LOG
    else
      resolve_jars
      write_config
      format_storage
      say "starting broker on $HOST:$PORT (log: ${LOG#"$ROOT"/})…"
      : >"$LOG"
      cd "$BASE"
      # setsid: own session, so a CI step's process-group cleanup/ctrl-c does not hit it by accident
      setsid nohup "$JAVA" -Xmx512m -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$LOG4J_CONF" \
        -Dkafka.logs.dir="$BASE" \
        -cp "$JARS/*" kafka.Kafka "$PROPS" >>"$LOG" 2>&1 </dev/null &
      pid=$!
      echo "$pid" >"$PIDFILE"
      cd - >/dev/null
    fi
  fi
  local t0=$SECONDS
  while ((SECONDS - t0 < START_TIMEOUT)); do
    if broker_answers; then
      say "ready on $HOST:$PORT (pid $pid, $((SECONDS - t0))s)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "----- last lines of $log -----" >&2; tail -n 40 "$log" >&2
      rm -f "$PIDFILE"
      die "broker exited during startup"
    fi
    sleep 0.5
  done
  echo "----- last lines of $log -----" >&2; tail -n 40 "$log" >&2
  die "broker did not answer on $HOST:$PORT within ${START_TIMEOUT}s (pid $pid left running; 'scripts/kafka.sh stop' to kill it)"
}

cmd_stop() {
  local pid
  if ! pid=$(broker_pid); then
    rm -f "$PIDFILE"
    if port_open; then die "port $PORT is open but no broker started by this script was found"; fi
    say "not running"
    return 0
  fi
  say "stopping broker (pid $pid)…"
  remember_stopped "$pid"
  kill -TERM "$pid" 2>/dev/null || true
  local t0=$SECONDS
  while kill -0 "$pid" 2>/dev/null && ((SECONDS - t0 < 30)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    say "still alive after 30s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  t0=$SECONDS
  while port_open && ((SECONDS - t0 < 15)); do sleep 0.3; done
  port_open && die "port $PORT still open after the broker exited"
  rm -f "$PIDFILE"
  say "stopped"
}

cmd_status() {
  local pid=""
  pid=$(broker_pid) || true
  if broker_answers; then
    echo "running (${HOST}:${PORT}${pid:+, pid $pid}, kafka $KAFKA_VERSION)"
    return 0
  fi
  if [[ -n "$pid" ]]; then echo "stopped (process $pid exists but does not answer on ${HOST}:${PORT})"; else echo "stopped"; fi
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  jars) resolve_jars >&2; echo "$JARS" ;;
  *) echo "usage: $0 start|stop|status|jars" >&2; exit 2 ;;
esac
