#!/usr/bin/env bash
# Make the system services the tests use available: install them with apt when running as root,
# start them when they are installed but stopped. Without root, say what is missing; the tests
# that need it are then skipped with one line each (or fail under CI=true).
# Usage: scripts/services.sh [postgres] [redis] [chromium] [dovecot] [mbsync] [notmuch] [nginx]
#        [prometheus]
set -uo pipefail

is_root() { [ "$(id -u)" = 0 ]; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
note() { echo "services: $*" >&2; }

apt_updated=0
apt_install() {
  if ! is_root; then
    note "$1 is not installed and this is not root: tests needing it will be skipped"
    return 1
  fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && apt_updated=1
  fi
  note "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# host:port of a URL given in the environment (CI's service containers), empty when unset.
external() {
  [ -n "${1:-}" ] || return 1
  python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(f"{p.hostname}:{p.port or sys.argv[2]}")' "$1" "$2"
}
reachable() { (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; }
wait_external() {
  for _ in $(seq 150); do reachable "$1" && return 0; sleep 0.2; done
  note "$1 is not reachable"; return 1
}

ensure_postgres() {
  if target=$(external "${POSTWISE_TEST_POSTGRES_URL:-}" 5432); then wait_external "$target"; return; fi
  listening 5432 && return 0
  command -v pg_ctlcluster >/dev/null || apt_install postgresql || return 1
  is_root || { note "PostgreSQL is stopped and this is not root: cannot start it"; return 1; }
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  note "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || return 1
  # Tests connect over TCP as "postgres" without a password, as on CI's service container.
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q "postwise-tests" "$hba"; then
    sed -i '1i host all postgres 127.0.0.1/32 trust # postwise-tests' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
  for _ in $(seq 50); do listening 5432 && return 0; sleep 0.2; done
  return 1
}

ensure_redis() {
  if target=$(external "${POSTWISE_TEST_REDIS_URL:-}" 6379); then wait_external "$target"; return; fi
  listening 6379 && return 0
  command -v redis-server >/dev/null || apt_install redis-server || return 1
  note "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 50); do listening 6379 && return 0; sleep 0.2; done
  return 1
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  apt_install chromium
}

# The IMAP server of the sync tests; the tests run their own instance on free ports, so the
# system service the package would start is left alone.
ensure_dovecot() {
  [ -x /usr/sbin/dovecot ] && return 0
  apt_install dovecot-imapd
}

# mbsync (isync): the peer the sync benchmark measures against.
ensure_mbsync() {
  command -v mbsync >/dev/null && return 0
  apt_install isync
}

# notmuch: the peer the search benchmark measures against.
ensure_notmuch() {
  command -v notmuch >/dev/null && return 0
  apt_install notmuch
}

# nginx: the reverse proxy of the deployment files (`nginx -t`) and the scale-out topology test,
# which runs its own instance on free ports.
ensure_nginx() {
  [ -x /usr/sbin/nginx ] && return 0
  apt_install nginx
}

# Prometheus and promtool: the alert rules (`promtool check rules`, `promtool test rules`) and
# the dashboards' queries against a real server the tests start.
ensure_prometheus() {
  command -v promtool >/dev/null && [ -x /usr/bin/prometheus ] && return 0
  apt_install prometheus
}

status=0
for service in "${@:-postgres redis chromium dovecot}"; do
  for name in $service; do
    "ensure_$name" || status=1
  done
done
exit $status
