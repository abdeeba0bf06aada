#!/usr/bin/env bash
# Start PostgreSQL, Redis and RabbitMQ on loopback where they are missing or
# stopped; a no-op where they already answer. Safe to run any number of times.
# Installs the Debian packages when a server is not installed at all (needs root).
set -u

log() { printf 'services: %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # name port seconds
  local i=0
  while [ "$i" -lt "$3" ]; do
    port_open "$2" && return 0
    sleep 1; i=$((i + 1))
  done
  log "$1 did not come up on 127.0.0.1:$2 within $3 s"; return 1
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

start_postgres() {
  if port_open 5432; then return 0; fi
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  local ver
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$ver" ]; then log "no PostgreSQL cluster found"; return 1; fi
  # Trust auth on loopback, as DESIGN §2 expects; only touched when we start it.
  local hba="/etc/postgresql/$ver/main/pg_hba.conf"
  if [ -f "$hba" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  log "starting PostgreSQL $ver"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  wait_port PostgreSQL 5432 30
}

start_redis() {
  if port_open 6379; then return 0; fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  log "starting Redis"
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port Redis 6379 20
}

start_rabbitmq() {
  if port_open 5672; then return 0; fi
  command -v rabbitmq-server >/dev/null 2>&1 || apt_install rabbitmq-server
  log "starting RabbitMQ (takes a few seconds)"
  $SUDO rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_port RabbitMQ 5672 90
}

rc=0
start_postgres || rc=1
start_redis || rc=1
start_rabbitmq || rc=1
[ "$rc" = 0 ] || log "some services are not up; see messages above"
exit "$rc"
