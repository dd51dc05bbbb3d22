#!/usr/bin/env bash
# Makes the services the integration tests need ready on 127.0.0.1, starting what is down:
# MariaDB :3306 with the tests' own account (test-db.env), Redis :6379 and a Kafka 3.9.1 broker
# :9092 (controller :9093, see kafka.sh). On a bare Debian machine it first installs the packages
# whose commands are missing. Idempotent: run it as often as you like (CI runs it before the tests). Exits non-zero when a
# service cannot be made ready; prints one line per service.
#
#   UP_WAIT_SECONDS   how long to wait for MariaDB and Redis to answer (60)
#   TEST_DB_*         the test account (defaults in test-db.env)
#   KAFKA_*           passed through to kafka.sh (port, home dir, extra properties...)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
UP_WAIT_SECONDS="${UP_WAIT_SECONDS:-60}"

# shellcheck source=scripts/lib/common.sh
source "${SCRIPT_DIR}/../lib/common.sh"
# The environment wins over the file, as it does in the tests (app/test/support/services.ts).
while IFS='=' read -r key value; do
  [[ "${key}" =~ ^TEST_DB_[A-Z]+$ ]] || continue
  [[ -n "${!key:-}" ]] || printf -v "${key}" '%s' "${value}"
done <"${SCRIPT_DIR}/test-db.env"

# Installs the Debian packages whose command is missing, with one apt-get update at most, so a
# machine that already has everything never touches the network.
ensure_commands() {
  local missing=() pair cmd pkg
  for pair in mvn:maven javac:openjdk-17-jdk-headless kcat:kcat redis-server:redis-server \
    redis-cli:redis-tools mariadbd:mariadb-server mariadb-admin:mariadb-client; do
    cmd="${pair%%:*}"
    pkg="${pair#*:}"
    command -v "${cmd}" >/dev/null || [[ -x "/usr/sbin/${cmd}" ]] || missing+=("${pkg}")
  done
  if ((${#missing[@]} == 0)); then
    say tools "ready (mvn, javac, kcat, redis, mariadb)"
    return 0
  fi
  say tools "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
    fail tools "apt-get update failed (need root or passwordless sudo)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || fail tools "apt-get install ${missing[*]} failed"
  say tools "installed ${missing[*]}"
}

wait_until() {
  local deadline=$((SECONDS + UP_WAIT_SECONDS))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# Exit 0 whenever the server answers, even when it refuses the account (mariadb-admin's rule).
mariadb_ping() {
  mariadb-admin --protocol=tcp -h "${TEST_DB_HOST}" -P "${TEST_DB_PORT}" -u "${TEST_DB_USER}" \
    --connect-timeout=2 ping
}

test_account_works() {
  MYSQL_PWD="${TEST_DB_PASSWORD}" mariadb --protocol=tcp -h "${TEST_DB_HOST}" -P "${TEST_DB_PORT}" \
    -u "${TEST_DB_USER}" --connect-timeout=2 -N -e 'SELECT 1' >/dev/null 2>&1
}

is_local_server() {
  [[ "${TEST_DB_HOST}" == "127.0.0.1" || "${TEST_DB_HOST}" == "localhost" ]] && [[ "${TEST_DB_PORT}" == "3306" ]]
}

# A fresh Debian server lets root in only through the unix socket, and that stays so: the tests
# get an account of their own with a password, allowed on the memo% databases alone (each suite
# creates and drops memo_test_<suite>_<pid>; benchmarks use memo_bench_*).
ensure_test_account() {
  test_account_works && return 0
  is_local_server || fail mariadb "the account ${TEST_DB_USER} cannot log in to ${TEST_DB_HOST}:${TEST_DB_PORT} (TEST_DB_* point at a server this script does not manage)"
  [[ "${TEST_DB_USER}" =~ ^[A-Za-z0-9_]+$ && "${TEST_DB_PASSWORD}" != *"'"* ]] ||
    fail mariadb "TEST_DB_USER must be letters, digits and _; TEST_DB_PASSWORD must not contain a quote"
  local host sql=""
  for host in 127.0.0.1 localhost; do
    sql+="CREATE USER IF NOT EXISTS '${TEST_DB_USER}'@'${host}' IDENTIFIED BY '${TEST_DB_PASSWORD}';"
    sql+="ALTER USER '${TEST_DB_USER}'@'${host}' IDENTIFIED BY '${TEST_DB_PASSWORD}';"
    sql+="GRANT ALL PRIVILEGES ON \`memo%\`.* TO '${TEST_DB_USER}'@'${host}';"
  done
  as_root mariadb --protocol=socket -u root -e "${sql}" ||
    fail mariadb "could not create the test account ${TEST_DB_USER} as root over the unix socket"
  test_account_works || fail mariadb "the test account ${TEST_DB_USER} was created but cannot log in over TCP"
  say mariadb "created the test account ${TEST_DB_USER} (TCP, password, memo% databases only)"
}

ensure_mariadb() {
  if mariadb_ping >/dev/null 2>&1; then
    ensure_test_account
    say mariadb "ready on ${TEST_DB_HOST}:${TEST_DB_PORT} (already running)"
    return 0
  fi
  is_local_server || fail mariadb "no server answers at ${TEST_DB_HOST}:${TEST_DB_PORT} (TEST_DB_HOST/PORT)"
  # The Debian package's socket dir lives on tmpfs, so it is gone after a reboot.
  if id mysql >/dev/null 2>&1; then
    as_root install -d -o mysql -g mysql /run/mysqld || true
  fi
  # Debian's my.cnf names no [mysqld] user, and mariadbd refuses to run as root without one.
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql ||
    fail mariadb "could not start /usr/sbin/mariadbd"
  wait_until mariadb_ping || fail mariadb "no answer to mariadb-admin ping after ${UP_WAIT_SECONDS} s"
  ensure_test_account
  say mariadb "ready on 127.0.0.1:3306 (started)"
}

redis_ping() {
  [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == "PONG" ]]
}

ensure_redis() {
  if redis_ping; then
    say redis "ready on 127.0.0.1:6379 (already running)"
    return 0
  fi
  as_root install -d /var/lib/redis /var/log/redis || true
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null ||
    fail redis "redis-server did not start (see /var/log/redis/ci.log)"
  wait_until redis_ping || fail redis "no PONG after ${UP_WAIT_SECONDS} s"
  say redis "ready on 127.0.0.1:6379 (started)"
}

ensure_kafka() {
  local out
  out="$("${SCRIPT_DIR}/kafka.sh" fetch 2>&1)" || {
    printf '%s\n' "${out}" >&2
    fail kafka "fetching the broker jars failed"
  }
  # A broker started from another checkout (or an earlier CI clone) holds the port without a
  # pid file here; if it answers Kafka metadata requests, the tests can use it as it is.
  local port="${KAFKA_PORT:-9092}"
  if ! "${SCRIPT_DIR}/kafka.sh" status >/dev/null 2>&1 &&
    timeout 15 kcat -L -b "127.0.0.1:${port}" -m 10 >/dev/null 2>&1; then
    say kafka "ready on 127.0.0.1:${port} (already running, started outside this checkout)"
    return 0
  fi
  out="$("${SCRIPT_DIR}/kafka.sh" start 2>&1)" || {
    printf '%s\n' "${out}" >&2
    fail kafka "the broker did not start"
  }
  say kafka "ready on 127.0.0.1:${KAFKA_PORT:-9092} ($(printf '%s\n' "${out}" | tail -n 1 | sed 's/^kafka([^)]*): //'))"
}

ensure_commands
ensure_mariadb
ensure_redis
ensure_kafka
