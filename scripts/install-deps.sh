#!/usr/bin/env bash
# Installs what `make test` needs, if it is missing. Idempotent and quiet when
# everything is already present.
#
#   - PostgreSQL server binaries (initdb, pg_ctl) for scripts/pg.sh, and
#     pgbouncer for the pooler tests (tests/multi)
#   - MariaDB server (mariadbd) for scripts/mysql.sh
#   - chromium + chromium-driver for the browser tests
#   - a C compiler (go test -race needs cgo)
#   - tests/browser npm dependencies (never downloads a browser)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "install-deps: $*" >&2; }

have_pg_server() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && return 0
	done
	return 1
}

missing=()
have_pg_server || missing+=(postgresql)
command -v pgbouncer >/dev/null 2>&1 || [[ -x /usr/sbin/pgbouncer ]] || missing+=(pgbouncer)
command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)

if ((${#missing[@]} > 0)); then
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 || {
			log "missing ${missing[*]} and not root (no sudo): install them by hand"
			exit 1
		}
		sudo=(sudo)
	fi
	log "installing: ${missing[*]}"
	if [[ " ${missing[*]} " == *" postgresql "* && ! -e /etc/postgresql-common/createcluster.d/ginauth.conf ]]; then
		# Tests use their own throwaway cluster (scripts/pg.sh): don't let the
		# package create (and maybe start) the default one on port 5432.
		"${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
		echo 'create_main_cluster = false' |
			"${sudo[@]}" tee /etc/postgresql-common/createcluster.d/ginauth.conf >/dev/null
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Wait (up to 10 min) for a concurrent apt/dpkg run instead of failing.
	apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
	"${sudo[@]}" apt-get "${apt_opts[@]}" update -qq >/dev/null
	"${sudo[@]}" apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
	have_pg_server || { log "postgresql installed but initdb/pg_ctl not found"; exit 1; }
	log "done"
fi

if [[ -f tests/browser/package.json ]]; then
	command -v npm >/dev/null 2>&1 || { log "npm not found (needed for tests/browser)"; exit 1; }
	export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1
	(
		cd tests/browser
		stamp=node_modules/.package-lock.json # written by npm after an install
		if [[ -f package-lock.json ]]; then
			if [[ ! -f $stamp || package-lock.json -nt $stamp || package.json -nt $stamp ]]; then
				log "npm ci in tests/browser"
				npm ci --no-audit --no-fund --loglevel=error >&2
			fi
		elif [[ ! -f $stamp || package.json -nt $stamp ]]; then
			log "npm install in tests/browser (no package-lock.json)"
			npm install --no-audit --no-fund --loglevel=error >&2
		fi
	)
fi
