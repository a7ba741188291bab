#!/usr/bin/env bash
# Throwaway MariaDB server for tests (the MySQL dialect).
#
#   scripts/mysql.sh start    create a data directory in /tmp/ginauth-mysql-XXXXXX and
#                             start mariadbd on 127.0.0.1:$GINAUTH_MYSQL_PORT (default 53306)
#   scripts/mysql.sh env      print: export GINAUTH_TEST_DATABASE_URL=mysql://...
#   scripts/mysql.sh stop     stop the server and remove its directory
#
# The server runs as the `mysql` system user when started by root. A user
# `ginauth` with no password may connect from loopback only and may create
# databases (internal/testdb makes one per test).
set -euo pipefail

PORT=${GINAUTH_MYSQL_PORT:-53306}
STATE=/tmp/ginauth-mysql-$PORT.state
RUN_USER=${GINAUTH_MYSQL_USER:-mysql}

log() { echo "mysql.sh: $*" >&2; }
die() { log "$*"; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

stop_dir() {
	local dir=$1 pid
	[[ -d $dir ]] || return 0
	if [[ -f $dir/mariadb.pid ]]; then
		pid=$(cat "$dir/mariadb.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -rf -- "$dir"
}

cmd_stop() {
	if [[ -f $STATE ]]; then
		stop_dir "$(sed -n 's/^DIR=//p' "$STATE")"
		rm -f -- "$STATE"
	fi
}

cmd_start() {
	command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] ||
		die "mariadbd not found (run scripts/install-deps.sh)"
	local mariadbd dir
	mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
	cmd_stop
	port_in_use && die "port $PORT on 127.0.0.1 is in use by another process (set GINAUTH_MYSQL_PORT)"
	if [[ $(id -u) -eq 0 ]] && ! id -u "$RUN_USER" >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_USER"
	fi
	dir=$(mktemp -d /tmp/ginauth-mysql-XXXXXX)
	printf 'DIR=%s\n' "$dir" >"$STATE"
	[[ $(id -u) -eq 0 ]] && chown "$RUN_USER:" "$dir"
	chmod 700 "$dir"
	local user_opt=()
	[[ $(id -u) -eq 0 ]] && user_opt=(--user="$RUN_USER")
	if ! mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$dir/data" --skip-test-db \
		--auth-root-authentication-method=socket >"$dir/install.log" 2>&1; then
		cat "$dir/install.log" >&2
		cmd_stop
		die "mariadb-install-db failed"
	fi
	# Durability off: a throwaway server for tests.
	"$mariadbd" --no-defaults "${user_opt[@]}" --datadir="$dir/data" --port="$PORT" \
		--bind-address=127.0.0.1 --socket="$dir/mysql.sock" --pid-file="$dir/mariadb.pid" \
		--log-error="$dir/error.log" --skip-name-resolve --max-connections=400 \
		--innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --sync-binlog=0 \
		--innodb-buffer-pool-size=256M --character-set-server=utf8mb4 \
		--collation-server=utf8mb4_unicode_ci >/dev/null 2>&1 &
	for _ in $(seq 1 300); do
		[[ -S $dir/mysql.sock ]] && mariadb --no-defaults --socket="$dir/mysql.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
		sleep 0.1
	done
	mariadb --no-defaults --socket="$dir/mysql.sock" -uroot -e "
		CREATE USER 'ginauth'@'127.0.0.1';
		GRANT ALL PRIVILEGES ON *.* TO 'ginauth'@'127.0.0.1';
		CREATE DATABASE ginauth_test;" || {
		tail -n 30 "$dir/error.log" >&2 || true
		cmd_stop
		die "server failed to start"
	}
	printf 'DIR=%s\nDSN=%s\n' "$dir" "mysql://ginauth@127.0.0.1:$PORT/ginauth_test" >"$STATE"
	log "MariaDB $("$mariadbd" --version | awk '{print $3}') up on 127.0.0.1:$PORT (dir $dir)"
}

cmd_env() {
	[[ -f $STATE ]] || die "no server on port $PORT (run: scripts/mysql.sh start)"
	local dsn
	dsn=$(sed -n 's/^DSN=//p' "$STATE")
	[[ -n $dsn ]] || die "server on port $PORT did not finish starting"
	printf "export GINAUTH_TEST_DATABASE_URL='%s'\n" "$dsn"
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env ;;
*)
	echo "usage: $0 start|stop|env" >&2
	exit 2
	;;
esac
