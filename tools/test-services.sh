#!/usr/bin/env bash
# Source this before running the tests: it points HOMEROOM_TEST_DATABASE_URL and
# HOMEROOM_TEST_REDIS_URL at running servers, starting private ones under
# .cache/services when none is configured or reachable (installing them from the
# distribution's packages if they are missing).
set -u
_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_cache="$_root/.cache/services"
mkdir -p "$_cache"

_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&-; }

_apt() {
  command -v apt-get >/dev/null || return 1
  [ -f "$_cache/apt-updated" ] || { apt-get update -qq >/dev/null && touch "$_cache/apt-updated"; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ -z "${HOMEROOM_TEST_REDIS_URL:-}" ]; then
  if _port_open 6379; then
    export HOMEROOM_TEST_REDIS_URL="redis://127.0.0.1:6379/0"
  else
    command -v redis-server >/dev/null || _apt redis-server
    if ! _port_open 6390; then
      redis-server --daemonize yes --port 6390 --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$_cache" --logfile "$_cache/redis.log" --pidfile "$_cache/redis.pid"
      for _ in $(seq 50); do _port_open 6390 && break; sleep 0.1; done
    fi
    export HOMEROOM_TEST_REDIS_URL="redis://127.0.0.1:6390/0"
  fi
fi

if [ -z "${HOMEROOM_TEST_DATABASE_URL:-}" ]; then
  if _port_open 5432; then
    export HOMEROOM_TEST_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/test"
  else
    _bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$_bin" ]; then _apt postgresql >/dev/null; _bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); fi
    _data="$_cache/pg"
    _run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
    if [ ! -d "$_data" ]; then
      mkdir -p "$_data"; [ "$(id -u)" = 0 ] && chown postgres "$_data" "$_cache"
      _run "$_bin/initdb -D $_data -U postgres --auth=trust" >/dev/null
    fi
    if ! _port_open 5433; then
      _run "$_bin/pg_ctl -D $_data -l $_data/log -o '-p 5433 -k /tmp -c listen_addresses=127.0.0.1' -w start" >/dev/null
    fi
    export HOMEROOM_TEST_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5433/postgres"
  fi
fi
echo "test services: database ${HOMEROOM_TEST_DATABASE_URL}, redis ${HOMEROOM_TEST_REDIS_URL}"
