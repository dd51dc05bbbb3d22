#!/usr/bin/env bash
# A real single-node Kafka 3.9.1 broker (KRaft, broker+controller) for tests, run as a plain
# JVM on 127.0.0.1 from jars fetched from Maven Central; no Docker needed.
#
#   scripts/services/kafka.sh fetch    assemble .services/kafka/libs (Maven; skipped when current)
#   scripts/services/kafka.sh start    start a broker in the background, wait until it serves
#   scripts/services/kafka.sh stop     SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT seconds
#   scripts/services/kafka.sh kill     SIGKILL at once (a crash: no controlled shutdown, no flush)
#   scripts/services/kafka.sh status   exit 0 when running, 3 when not
#
# Environment (all optional), so a test can run a second broker beside the shared one:
#   KAFKA_PORT             client listener port                       (9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port                      (9093)
#   KAFKA_HOME_DIR         pid file and run-* dirs of this broker     (.services/kafka/broker-<port>)
#   KAFKA_EXTRA_PROPERTIES file of key=value lines appended to server.properties (later wins)
#   KAFKA_KEEP_DATA=1      start reuses the latest run dir (its log dir) instead of a fresh one
#   KAFKA_START_TIMEOUT    seconds to wait for "Kafka Server started"  (90)
#   KAFKA_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL         (30)
#   KAFKA_HEAP_OPTS        JVM heap flags                              (-Xms256m -Xmx768m)
#   KAFKA_LIBS_DIR         broker classpath                            (.services/kafka/libs)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "${SCRIPT_DIR}/../.." && pwd)"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_LIBS_DIR="${KAFKA_LIBS_DIR:-${ROOT_DIR}/.services/kafka/libs}"
KAFKA_HOME_DIR="${KAFKA_HOME_DIR:-${ROOT_DIR}/.services/kafka/broker-${KAFKA_PORT}}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
POM="${SCRIPT_DIR}/kafka/pom.xml"
LOG4J_PROPERTIES="${SCRIPT_DIR}/kafka/log4j.properties"
PID_FILE="${KAFKA_HOME_DIR}/kafka.pid"
# Fixed so reruns and KAFKA_KEEP_DATA restarts agree with meta.properties: 22 chars of
# base64url encoding 16 bytes, the form StorageTool accepts.
CLUSTER_ID="bWVtby1ldmVudHMtdGVzdA"

log() { printf 'kafka(127.0.0.1:%s): %s\n' "${KAFKA_PORT}" "$*"; }
die() {
  log "ERROR: $*" >&2
  exit 1
}

port_open() {
  # A subshell so the descriptor closes at once; bash's /dev/tcp needs no extra tool.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

running_pid() {
  [[ -f "${PID_FILE}" ]] || return 1
  local pid
  pid="$(cat "${PID_FILE}")"
  [[ "${pid}" =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null || return 1
  printf '%s\n' "${pid}"
}

pom_stamp() {
  sha256sum "${POM}" | cut -d' ' -f1
}

cmd_fetch() {
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  local stamp="${KAFKA_LIBS_DIR}/.pom-sha256"
  if [[ -f "${stamp}" && "$(cat "${stamp}")" == "$(pom_stamp)" ]]; then
    log "libs already fetched in ${KAFKA_LIBS_DIR}"
    return 0
  fi
  # Into a scratch dir first, so an interrupted fetch never leaves a half classpath behind
  # that start would take for complete.
  local tmp="${KAFKA_LIBS_DIR}.tmp.$$"
  rm -rf "${tmp}"
  mkdir -p "${tmp}"
  log "fetching broker jars from Maven Central into ${KAFKA_LIBS_DIR}"
  if ! mvn -B -q -Dstyle.color=never -f "${POM}" dependency:copy-dependencies -DoutputDirectory="${tmp}"; then
    rm -rf "${tmp}"
    die "mvn dependency:copy-dependencies failed"
  fi
  ls "${tmp}"/kafka_2.13-*.jar "${tmp}"/kafka-server-[0-9]*.jar "${tmp}"/zookeeper-[0-9]*.jar \
    "${tmp}"/reload4j-*.jar >/dev/null 2>&1 || {
    rm -rf "${tmp}"
    die "fetched classpath lacks broker, server, zookeeper or reload4j jars"
  }
  pom_stamp >"${tmp}/.pom-sha256"
  rm -rf "${KAFKA_LIBS_DIR}"
  mv "${tmp}" "${KAFKA_LIBS_DIR}"
  log "fetched $(find "${KAFKA_LIBS_DIR}" -name '*.jar' | wc -l) jars"
}

write_properties() {
  local run_dir="$1"
  cat >"${run_dir}/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${run_dir}/data
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
background.threads=2
log.cleaner.dedupe.buffer.size=2097152
EOF
  if [[ -n "${KAFKA_EXTRA_PROPERTIES:-}" ]]; then
    [[ -r "${KAFKA_EXTRA_PROPERTIES}" ]] || die "KAFKA_EXTRA_PROPERTIES=${KAFKA_EXTRA_PROPERTIES} is not a readable file"
    {
      printf '# from %s\n' "${KAFKA_EXTRA_PROPERTIES}"
      cat "${KAFKA_EXTRA_PROPERTIES}"
      printf '\n'
    } >>"${run_dir}/server.properties"
  fi
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    port_open "${KAFKA_PORT}" || die "pid ${pid} from ${PID_FILE} is alive but port ${KAFKA_PORT} is closed"
    log "already running (pid ${pid})"
    return 0
  fi
  for port in "${KAFKA_PORT}" "${KAFKA_CONTROLLER_PORT}"; do
    port_open "${port}" && die "port ${port} is already taken by another process"
  done
  command -v java >/dev/null || die "java not found (apt-get install openjdk-17-jre-headless)"
  compgen -G "${KAFKA_LIBS_DIR}/kafka_2.13-*.jar" >/dev/null ||
    die "no broker jars in ${KAFKA_LIBS_DIR}: run scripts/services/kafka.sh fetch first"

  mkdir -p "${KAFKA_HOME_DIR}"
  local run_dir=""
  if [[ "${KAFKA_KEEP_DATA:-0}" == "1" && -L "${KAFKA_HOME_DIR}/current" ]]; then
    run_dir="$(readlink -f "${KAFKA_HOME_DIR}/current")"
    log "reusing ${run_dir}"
  else
    run_dir="${KAFKA_HOME_DIR}/run-$(date +%Y%m%d-%H%M%S)-$$"
    mkdir -p "${run_dir}/data"
    # Older runs are only kept for post-mortems of the last few failures.
    find "${KAFKA_HOME_DIR}" -maxdepth 1 -name 'run-*' -type d | sort | head -n -3 | xargs -r rm -rf
  fi
  write_properties "${run_dir}"
  ln -sfn "${run_dir}" "${KAFKA_HOME_DIR}/current"

  java -cp "${KAFKA_LIBS_DIR}/*" -Dlog4j.configuration="file:${LOG4J_PROPERTIES}" \
    -Dkafka.logs.dir="${run_dir}" kafka.tools.StorageTool format -t "${CLUSTER_ID}" \
    -c "${run_dir}/server.properties" --ignore-formatted >"${run_dir}/format.log" 2>&1 ||
    die "storage format failed: $(cat "${run_dir}/format.log")"

  local started_at=${SECONDS}
  local log_file="${run_dir}/kafka.log"
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several flags on purpose.
  setsid nohup java ${KAFKA_HEAP_OPTS} -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j.configuration="file:${LOG4J_PROPERTIES}" \
    -Dkafka.logs.dir="${run_dir}" -cp "${KAFKA_LIBS_DIR}/*" \
    kafka.Kafka "${run_dir}/server.properties" >"${run_dir}/stdout.log" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "${pid}" >"${PID_FILE}"
  log "starting (pid ${pid}, dir ${run_dir})"

  while ((SECONDS - started_at < KAFKA_START_TIMEOUT)); do
    if ! kill -0 "${pid}" 2>/dev/null; then
      rm -f "${PID_FILE}"
      tail -n 30 "${run_dir}/stdout.log" "${log_file}" >&2 2>/dev/null || true
      die "JVM exited during start (logs in ${run_dir})"
    fi
    if port_open "${KAFKA_PORT}" && grep -q 'Kafka Server started' "${log_file}" 2>/dev/null; then
      log "ready after $((SECONDS - started_at)) s"
      return 0
    fi
    sleep 0.5
  done
  tail -n 30 "${log_file}" >&2 2>/dev/null || true
  cmd_stop
  die "not ready after ${KAFKA_START_TIMEOUT} s (logs in ${run_dir})"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "${PID_FILE}"
    log "not running"
    return 0
  fi
  kill -TERM "${pid}" 2>/dev/null || true
  local waited=0
  while kill -0 "${pid}" 2>/dev/null && ((waited < KAFKA_STOP_TIMEOUT * 10)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "${pid}" 2>/dev/null; then
    log "still alive after SIGTERM, sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    while kill -0 "${pid}" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "${PID_FILE}"
  log "stopped (pid ${pid})"
}

cmd_kill() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "${PID_FILE}"
    log "not running"
    return 0
  fi
  kill -KILL "${pid}" 2>/dev/null || true
  # Gone means the ports are free again, so a restart right after cannot find them taken. The
  # JVM's main thread turns zombie before its other threads (and sockets) are torn down, so a
  # zombie counts as gone only once it is alone; one an init never reaps holds no ports.
  local waited=0
  while kill -0 "${pid}" 2>/dev/null &&
    ! [[ "$(awk '{print $3}' "/proc/${pid}/stat" 2>/dev/null)" == "Z" &&
      "$(find "/proc/${pid}/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)" -le 1 ]]; do
    ((waited < 300)) || die "pid ${pid} still alive 30 s after SIGKILL"
    sleep 0.1
    waited=$((waited + 1))
  done
  for port in "${KAFKA_PORT}" "${KAFKA_CONTROLLER_PORT}"; do
    while port_open "${port}"; do
      ((waited < 300)) || die "port ${port} still open 30 s after SIGKILL of pid ${pid}"
      sleep 0.1
      waited=$((waited + 1))
    done
  done
  rm -f "${PID_FILE}"
  log "killed (pid ${pid})"
}

cmd_status() {
  local pid
  if pid="$(running_pid)" && port_open "${KAFKA_PORT}"; then
    log "running (pid ${pid}, dir $(readlink -f "${KAFKA_HOME_DIR}/current"))"
    return 0
  fi
  log "not running"
  return 3
}

case "${1:-}" in
fetch) cmd_fetch ;;
start) cmd_start ;;
stop) cmd_stop ;;
kill) cmd_kill ;;
status) cmd_status ;;
*)
  echo "usage: $0 {fetch|start|stop|kill|status}" >&2
  exit 2
  ;;
esac
