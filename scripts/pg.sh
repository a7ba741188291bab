#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests.
#
#   scripts/pg.sh start    create a cluster in /tmp/ginauth-pg-XXXXXX and start it
#                          on 127.0.0.1:$GINAUTH_PG_PORT (default 55432) with
#                          database ginauth_test
#   scripts/pg.sh env      print: export GINAUTH_TEST_DATABASE_URL=...
#   scripts/pg.sh stop     stop the server and remove its directory
#   scripts/pg.sh status   exit 0 if the cluster is up
#
# PostgreSQL refuses to run as root: when run as root the server runs as the
# `postgres` user (created if needed); otherwise as the current user. The
# superuser is always named `postgres`, with trust auth on loopback only.
# When pgbouncer is installed, `start` also starts one in front of the cluster
# in transaction pooling mode on 127.0.0.1:$GINAUTH_PG_PORT+1000, for the
# database ginauth_bouncer, and `env` prints GINAUTH_TEST_PGBOUNCER_URL.
# Env: GINAUTH_PG_PORT (port), GINAUTH_PG_BIN (dir holding initdb/pg_ctl),
# GINAUTH_PG_USER (system user the server runs as when started by root).
set -euo pipefail

PORT=${GINAUTH_PG_PORT:-55432}
BOUNCER_PORT=$((PORT + 1000))
DBNAME=ginauth_test
STATE=/tmp/ginauth-pg-$PORT.state
RUN_USER=${GINAUTH_PG_USER:-postgres}

log() { echo "pg.sh: $*" >&2; }
die() { log "$*"; exit 1; }

find_bin() {
	if [[ -n ${GINAUTH_PG_BIN:-} ]]; then
		echo "$GINAUTH_PG_BIN"
		return
	fi
	local d
	d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	[[ -n $d && -x $d/pg_ctl ]] || die "PostgreSQL server binaries not found (run scripts/install-deps.sh)"
	echo "$d"
}

# as_owner CMD...: run CMD as the cluster owner (postgres when we are root).
as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		if command -v runuser >/dev/null 2>&1; then
			runuser -u "$RUN_USER" -- "$@"
		else
			su "$RUN_USER" -s /bin/sh -c "$(printf '%q ' "$@")"
		fi
	else
		"$@"
	fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

# stop_dir DIR: stop the cluster in DIR (if running) and remove DIR.
stop_dir() {
	local dir=$1 bin
	[[ -d $dir ]] || return 0
	bin=$(find_bin)
	if [[ -f $dir/pgbouncer.pid ]]; then
		kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[[ -f $dir/pgbouncer.pid ]] || break
			sleep 0.2
		done
	fi
	if [[ -f $dir/data/postmaster.pid ]]; then
		(cd / && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1) ||
			(cd / && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1) ||
			true
	fi
	rm -rf -- "$dir"
}

cmd_stop() {
	local dir
	if [[ -f $STATE ]]; then
		dir=$(sed -n 's/^DIR=//p' "$STATE")
		[[ -n $dir ]] && stop_dir "$dir"
		rm -f -- "$STATE"
	fi
	# Leftovers on our port whose state file was lost (e.g. killed runs).
	for dir in /tmp/ginauth-pg-*/; do
		dir=${dir%/}
		[[ -f $dir/data/postmaster.pid ]] || continue
		[[ $(sed -n 4p "$dir/data/postmaster.pid" 2>/dev/null) == "$PORT" ]] || continue
		stop_dir "$dir"
	done
}

cmd_start() {
	local bin dir dsn
	bin=$(find_bin)
	cmd_stop # a previous cluster on this port, if any
	if port_in_use; then
		die "port $PORT on 127.0.0.1 is in use by another process (set GINAUTH_PG_PORT)"
	fi

	if [[ $(id -u) -eq 0 ]] && ! id -u "$RUN_USER" >/dev/null 2>&1; then
		log "creating system user $RUN_USER"
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$RUN_USER"
	fi

	dir=$(mktemp -d /tmp/ginauth-pg-XXXXXX)
	[[ $(id -u) -eq 0 ]] && chown "$RUN_USER:" "$dir"
	chmod 700 "$dir"
	# Record it at once so `stop` cleans up even if the start fails half-way.
	printf 'DIR=%s\n' "$dir" >"$STATE"

	cd "$dir"
	if ! as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
		--locale=C --no-sync >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		cmd_stop
		die "initdb failed"
	fi
	cat >>"$dir/data/postgresql.conf" <<CONF

# ginauth test settings (throwaway cluster: durability off)
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
checkpoint_timeout = 30min
max_wal_size = 2GB
log_min_messages = warning
log_min_error_statement = panic
CONF
	if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
		tail -n 30 "$dir/server.log" >&2 || true
		cmd_stop
		die "server failed to start"
	fi
	cd /

	if ! "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DBNAME"; then
		tail -n 30 "$dir/server.log" >&2 || true
		cmd_stop
		die "createdb failed"
	fi
	dsn="postgres://postgres@127.0.0.1:$PORT/$DBNAME?sslmode=disable"
	printf 'DIR=%s\nDSN=%s\n' "$dir" "$dsn" >"$STATE"
	log "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') up on 127.0.0.1:$PORT (dir $dir)"
	start_bouncer "$bin" "$dir"
}

# start_bouncer BIN DIR: pgbouncer in transaction mode in front of the
# cluster, for tests of what a pooler breaks (tests/multi). Skipped, with a
# note, when pgbouncer is not installed.
start_bouncer() {
	local bin=$1 dir=$2
	command -v pgbouncer >/dev/null 2>&1 || [[ -x /usr/sbin/pgbouncer ]] || {
		log "pgbouncer not installed: no pooler tests"
		return 0
	}
	"$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres ginauth_bouncer
	echo '"postgres" ""' >"$dir/userlist.txt"
	cat >"$dir/pgbouncer.ini" <<INI
[databases]
ginauth_bouncer = host=127.0.0.1 port=$PORT dbname=ginauth_bouncer user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
	[[ $(id -u) -eq 0 ]] && chown "$RUN_USER:" "$dir/pgbouncer.ini" "$dir/userlist.txt"
	if ! (cd / && as_owner "$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" -d -q "$dir/pgbouncer.ini"); then
		tail -n 20 "$dir/pgbouncer.log" >&2 || true
		die "pgbouncer failed to start"
	fi
	printf 'BOUNCER=postgres://postgres@127.0.0.1:%s/ginauth_bouncer?sslmode=disable\n' "$BOUNCER_PORT" >>"$STATE"
	log "pgbouncer (transaction pooling) up on 127.0.0.1:$BOUNCER_PORT"
}

cmd_env() {
	[[ -f $STATE ]] || die "no cluster on port $PORT (run: scripts/pg.sh start)"
	local dsn
	dsn=$(sed -n 's/^DSN=//p' "$STATE")
	[[ -n $dsn ]] || die "cluster on port $PORT did not finish starting"
	printf "export GINAUTH_TEST_DATABASE_URL='%s'\n" "$dsn"
	local bouncer
	bouncer=$(sed -n 's/^BOUNCER=//p' "$STATE")
	if [[ -n $bouncer ]]; then
		printf "export GINAUTH_TEST_PGBOUNCER_URL='%s'\n" "$bouncer"
	fi
}

cmd_status() {
	[[ -f $STATE ]] || die "no cluster on port $PORT"
	"$(find_bin)/pg_isready" -q -h 127.0.0.1 -p "$PORT" || die "cluster on port $PORT not responding"
	log "up: $(sed -n 's/^DSN=//p' "$STATE")"
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env ;;
status) cmd_status ;;
*)
	echo "usage: $0 start|stop|env|status" >&2
	exit 2
	;;
esac
