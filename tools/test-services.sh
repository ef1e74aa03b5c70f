# shellcheck shell=bash
# Source this (from bash) before running the tests:
#
#     source tools/test-services.sh
#
# It exports HOMEROOM_TEST_DATABASE_URL and HOMEROOM_TEST_REDIS_URL. A value already
# set is kept (HOMEROOM_TEST_DATABASE_URL=none skips the PostgreSQL half of the suite).
# Otherwise the machine's own servers are used when they answer on 127.0.0.1
# (PostgreSQL on $HOMEROOM_TEST_PG_PORT, default 5432, as user postgres without a
# password; Redis on $HOMEROOM_TEST_REDIS_PORT, default 6379), and when they do not,
# private throwaway servers are started from the distribution's binaries (installed
# with apt-get when missing and running as root). Their files live in
# $HOMEROOM_TEST_SERVICES_DIR (default /tmp/homeroom-test-services-<uid>); they keep
# running for the next test run; stop them with `tools/test-services.sh stop`.
#
# Nothing here changes the options of the shell that sources it.

if [ -z "${BASH_VERSION:-}" ]; then
  echo "tools/test-services.sh needs bash: run it as 'source tools/test-services.sh' from bash" >&2
  return 2 2>/dev/null || exit 2
fi

_hr_state="${HOMEROOM_TEST_SERVICES_DIR:-${TMPDIR:-/tmp}/homeroom-test-services-$(id -u)}"

_hr_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_hr_free_port() {
  local port=$1
  while _hr_port_open "$port"; do port=$((port + 1)); done
  echo "$port"
}

_hr_apt() {
  command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] || return 1
  echo "test services: installing $* ..." >&2
  if [ ! -f "$_hr_state/apt-updated" ]; then
    apt-get update -qq >/dev/null && touch "$_hr_state/apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

_hr_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# Run a PostgreSQL tool as a user it accepts (initdb and postgres refuse root).
_hr_as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

_hr_pg_usable() {
  # A server on the port that lets user postgres in without a password.
  local port=$1
  _hr_port_open "$port" || return 1
  if command -v psql >/dev/null; then
    PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -w -Atqc 'select 1' \
      >/dev/null 2>&1
  fi
}

_hr_private_redis() {
  command -v redis-server >/dev/null || _hr_apt redis-server || {
    echo "test services: redis-server is missing and cannot be installed here" >&2
    return 1
  }
  local pidfile="$_hr_state/redis.pid" port
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && [ -f "$_hr_state/redis.port" ]; then
    port=$(cat "$_hr_state/redis.port")
  else
    # Below the ephemeral range (32768+), where a listening port can still be taken by a client.
    port=${HOMEROOM_TEST_PRIVATE_REDIS_PORT:-16379}
    local attempt _
    for attempt in 1 2 3 4 5; do
      port=$(_hr_free_port "$port")
      rm -f "$pidfile"
      redis-server --daemonize yes --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$_hr_state" --logfile "$_hr_state/redis.log" --pidfile "$pidfile" >/dev/null
      for _ in $(seq 50); do _hr_port_open "$port" && break; sleep 0.1; done
      _hr_port_open "$port" && break
      port=$((port + 1))
    done
    _hr_port_open "$port" || {
      echo "test services: redis-server did not start, see $_hr_state/redis.log" >&2
      return 1
    }
    echo "$port" >"$_hr_state/redis.port"
  fi
  export HOMEROOM_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
}

_hr_private_postgres() {
  local bin
  bin=$(_hr_pg_bin)
  if [ -z "$bin" ]; then
    _hr_apt postgresql || {
      echo "test services: PostgreSQL is missing and cannot be installed here" >&2
      return 1
    }
    bin=$(_hr_pg_bin)
  fi
  local data="$_hr_state/pg" port
  if [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres "$data"
    _hr_as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$_hr_state/initdb.log" 2>&1 || {
      echo "test services: initdb failed, see $_hr_state/initdb.log" >&2
      return 1
    }
  fi
  if _hr_as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1 && [ -f "$_hr_state/pg.port" ]; then
    port=$(cat "$_hr_state/pg.port")
  else
    port=${HOMEROOM_TEST_PRIVATE_PG_PORT:-15432}
    local attempt started=""
    for attempt in 1 2 3 4 5; do
      port=$(_hr_free_port "$port")
      # TCP on loopback only, no Unix socket, no fsync: a throwaway server for tests.
      if _hr_as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
        -o "-p $port -k '' -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" \
        start >/dev/null; then
        started=1
        break
      fi
      port=$((port + 1))
    done
    [ -n "$started" ] || {
      echo "test services: PostgreSQL did not start, see $data/server.log" >&2
      return 1
    }
    echo "$port" >"$_hr_state/pg.port"
  fi
  export HOMEROOM_TEST_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
}

_hr_stop() {
  if [ -f "$_hr_state/redis.pid" ]; then
    kill "$(cat "$_hr_state/redis.pid")" 2>/dev/null
    rm -f "$_hr_state/redis.pid"
  fi
  local bin
  bin=$(_hr_pg_bin)
  if [ -n "$bin" ] && [ -d "$_hr_state/pg" ]; then
    _hr_as_pg "$bin/pg_ctl" -D "$_hr_state/pg" -m fast stop >/dev/null 2>&1
  fi
  echo "test services: private servers in $_hr_state stopped"
}

_hr_main() {
  mkdir -p "$_hr_state"
  [ "$(id -u)" = 0 ] && command -v runuser >/dev/null && chmod 755 "$_hr_state"
  if [ -z "${HOMEROOM_TEST_REDIS_URL:-}" ]; then
    local redis_port="${HOMEROOM_TEST_REDIS_PORT:-6379}"
    if _hr_port_open "$redis_port"; then
      export HOMEROOM_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
    else
      _hr_private_redis
    fi
  fi
  if [ -z "${HOMEROOM_TEST_DATABASE_URL:-}" ]; then
    local pg_port="${HOMEROOM_TEST_PG_PORT:-5432}"
    if _hr_pg_usable "$pg_port"; then
      export HOMEROOM_TEST_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:$pg_port/postgres"
    else
      _hr_private_postgres
    fi
  fi
  echo "test services: database ${HOMEROOM_TEST_DATABASE_URL:-unavailable}," \
    "redis ${HOMEROOM_TEST_REDIS_URL:-unavailable}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "${1:-}" = "stop" ]; then
  _hr_stop
else
  _hr_main
fi
unset -f _hr_port_open _hr_free_port _hr_apt _hr_pg_bin _hr_as_pg _hr_pg_usable \
  _hr_private_redis _hr_private_postgres _hr_stop _hr_main
unset _hr_state
