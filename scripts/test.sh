#!/usr/bin/env bash
# The test suite. `make test` runs `scripts/test.sh all`.
#
#   all       deps, go vet, gofmt check, go test on SQLite, go test on a
#             throwaway PostgreSQL (scripts/pg.sh), go test on a throwaway
#             MariaDB (scripts/mysql.sh), browser tests (npm test in
#             tests/browser, if tests/browser/package.json exists)
#   sqlite    go test on SQLite only (quick; no deps, no Postgres)
#   postgres  deps, then go test on PostgreSQL only
#   mysql     deps, then go test on a throwaway MariaDB only (scripts/mysql.sh)
#   browser   deps, then the browser tests only
#   fuzz      every Fuzz target for FUZZ_TIME (default 8s) each
#   timing    the enumeration timing tests, alone on the machine
#   bench     a smoke run of the benchmarks (scripts/bench.sh smoke)
#
# Every phase runs even if an earlier test phase failed; the exit status is
# non-zero if any failed. Postgres is always stopped on exit.
# Extra `go test` flags: GO_TEST_FLAGS (e.g. GO_TEST_FLAGS='-run TestLogin -v').
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v go >/dev/null 2>&1 || export PATH=$PATH:/usr/local/go/bin

MODE=${1:-all}
read -r -a EXTRA_FLAGS <<<"${GO_TEST_FLAGS:-}"
GO_TEST=(go test -race -count=1 -timeout 30m "${EXTRA_FLAGS[@]}" ./...)
PG_STARTED=
MYSQL_STARTED=
FAILED=()
SUMMARY=()
SUITE_START=$SECONDS

cleanup() {
	local rc=$?
	if [[ -n $PG_STARTED ]]; then
		echo "==> stopping PostgreSQL"
		scripts/pg.sh stop || true
	fi
	if [[ -n $MYSQL_STARTED ]]; then
		echo "==> stopping MariaDB"
		scripts/mysql.sh stop || true
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# phase NAME CMD...: run CMD as a named phase, recording its result and time.
phase() {
	local name=$1 start=$SECONDS rc=0
	shift
	echo
	echo "==> [$name] $*"
	"$@" || rc=$?
	local took=$((SECONDS - start))s
	if ((rc == 0)); then
		echo "==> [$name] ok ($took)"
		SUMMARY+=("ok    $name ($took)")
	else
		echo "==> [$name] FAILED with exit $rc ($took)"
		SUMMARY+=("FAIL  $name ($took)")
		FAILED+=("$name")
	fi
	return 0
}

gofmt_check() {
	local files
	files=$(find . \( -name .git -o -name node_modules -o -name vendor -o -name testdata \) -prune \
		-o -type f -name '*.go' -print | sort | xargs -r gofmt -l)
	if [[ -n $files ]]; then
		echo "gofmt: these files need formatting (run gofmt -w):"
		while IFS= read -r f; do echo "  $f"; done <<<"$files"
		return 1
	fi
}

test_sqlite() {
	echo "${GO_TEST[*]}   (SQLite)"
	env -u GINAUTH_TEST_DATABASE_URL "${GO_TEST[@]}"
}

start_pg() {
	PG_STARTED=1
	scripts/pg.sh start
}

test_postgres() {
	local dsn
	dsn=$(scripts/pg.sh env) || return 1
	eval "$dsn"
	echo "GINAUTH_TEST_DATABASE_URL=$GINAUTH_TEST_DATABASE_URL ${GO_TEST[*]}"
	GINAUTH_TEST_DATABASE_URL=$GINAUTH_TEST_DATABASE_URL "${GO_TEST[@]}"
}

start_mysql() {
	MYSQL_STARTED=1
	scripts/mysql.sh start
}

# test_mysql runs the Go suite on MariaDB without -race: the race detector
# has had its run on SQLite and PostgreSQL, and this phase is about the SQL.
test_mysql() {
	local dsn
	dsn=$(scripts/mysql.sh env) || return 1
	eval "$dsn"
	echo "GINAUTH_TEST_DATABASE_URL=$GINAUTH_TEST_DATABASE_URL go test -count=1 ${EXTRA_FLAGS[*]} ./..."
	env -u GINAUTH_TEST_PGBOUNCER_URL GINAUTH_TEST_DATABASE_URL="$GINAUTH_TEST_DATABASE_URL" go test -count=1 "${EXTRA_FLAGS[@]}" ./...
}

mysql_phases() {
	phase mysql-start start_mysql
	if [[ " ${FAILED[*]} " == *" mysql-start "* ]]; then
		return
	fi
	phase go-test-mysql test_mysql
	scripts/mysql.sh stop
	MYSQL_STARTED=
}

test_browser() {
	(
		cd tests/browser
		echo "(cd tests/browser && npm test)"
		PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
			CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium || true)} \
			CHROMEDRIVER_PATH=${CHROMEDRIVER_PATH:-$(command -v chromedriver || true)} \
			npm test
	)
}

# fuzz_smoke runs every Fuzz target in the repo for FUZZ_TIME (default 8s)
# beyond its seed corpus, which the ordinary test phases already run. Each
# package is built once, with fuzzing instrumentation (go test -c -fuzz), and
# its binary runs each of its targets in turn: linking a test binary per
# target cost more than the fuzzing itself. The corpus cache is the one
# `go test -fuzz` uses, under GOCACHE.
fuzz_smoke() {
	local dir name bin rc=0 tmp cache
	tmp=$(mktemp -d)
	cache=$(go env GOCACHE)/fuzz
	while read -r dir; do
		bin=$tmp/$(tr / _ <<<"$dir").test
		echo "go test -c -fuzz=. -o $bin ./$dir"
		if ! env -u GINAUTH_TEST_DATABASE_URL go test -c -fuzz=. -o "$bin" "./$dir"; then
			rc=1
			continue
		fi
		while read -r name; do
			fuzz_target "$dir" "$name" "$bin" "$cache/$(cd "$dir" && go list ./)" || rc=1
		done < <(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)' "$dir"/*_test.go | sed -E 's/^func //' | sort)
	done < <(grep -rlE --include='*_test.go' --exclude-dir=node_modules '^func Fuzz[A-Za-z0-9_]+' . |
		xargs -n1 dirname | sed -E 's#^\./##' | sort -u)
	rm -rf "$tmp"
	return "$rc"
}

# fuzz_target fuzzes one target. Go's fuzzing coordinator has a shutdown race
# (it compares the -fuzztime deadline's error against its child context's):
# on a loaded machine a target that found nothing can end in a bare
# "context deadline exceeded" failure, with no failing input written. Such a
# run is tried once more; a second bare deadline is reported and not counted
# as a failure. Anything else fails the phase: a failing input written under
# testdata/fuzz, a panic, or any other error.
fuzz_target() {
	local dir=$1 name=$2 bin=$3 cachedir=$4 try out before after
	for try in 1 2; do
		echo "($dir) $name -fuzztime ${FUZZ_TIME:-8s} (try $try)"
		before=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | wc -l)
		out=$(mktemp)
		if (cd "$dir" && env -u GINAUTH_TEST_DATABASE_URL "$bin" -test.run '^$' -test.fuzz "^${name}\$" \
			-test.fuzztime "${FUZZ_TIME:-8s}" -test.fuzzcachedir "$cachedir") >"$out" 2>&1; then
			cat "$out"
			rm -f "$out"
			return 0
		fi
		cat "$out"
		after=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | wc -l)
		if [ "$after" != "$before" ] || grep -qE 'Failing input written|panic:|^\s+[a-z_]+\.go:[0-9]+:' "$out" ||
			! grep -qE '^\s+context deadline exceeded$' "$out"; then
			rm -f "$out"
			return 1
		fi
		rm -f "$out"
		echo "($dir) $name: the fuzzing coordinator stopped at its deadline with no finding (Go's shutdown race)"
	done
	echo "($dir) $name: WARNING: two bare deadline stops in a row; no failing input was found, not counted as a failure"
	return 0
}

# bench_smoke runs each benchmark of tests/bench a few iterations and the
# load tests with tiny counts (scripts/bench.sh smoke, on its own throwaway
# PostgreSQL), so that `make bench` keeps working. It measures nothing.
bench_smoke() {
	env -u GINAUTH_TEST_DATABASE_URL scripts/bench.sh smoke
}

# timing runs the statistical timing tests (enumeration by response time)
# alone, so that no other test competes for the two cores while they
# measure.
timing() {
	echo "GINAUTH_TIMING_TESTS=1 go test ./tests/security -run 'TimingAlike' -count=1 -v"
	env -u GINAUTH_TEST_DATABASE_URL GINAUTH_TIMING_TESTS=1 go test ./tests/security -run 'TimingAlike' -count=1 -v
}

# vet_all vets the main module and tests/bench, which is a module of its own
# so that apps depending on ginauth do not inherit the benchmark peers.
vet_all() {
	go vet ./... && (cd tests/bench && go vet ./...)
}

deps() {
	echo "==> [deps] scripts/install-deps.sh"
	scripts/install-deps.sh
}

postgres_phases() {
	phase postgres-start start_pg
	if [[ " ${FAILED[*]} " == *" postgres-start "* ]]; then
		return
	fi
	phase go-test-postgres test_postgres
	scripts/pg.sh stop
	PG_STARTED=
}

browser_phase() {
	if [[ -f tests/browser/package.json ]]; then
		phase browser test_browser
	else
		echo
		echo "==> [browser] skipped: no tests/browser/package.json"
	fi
}

case $MODE in
all)
	deps
	phase go-vet vet_all
	phase gofmt gofmt_check
	phase go-test-sqlite test_sqlite
	postgres_phases
	mysql_phases
	phase timing timing
	phase fuzz fuzz_smoke
	phase bench-smoke bench_smoke
	browser_phase
	;;
fuzz) phase fuzz fuzz_smoke ;;
timing) phase timing timing ;;
bench) phase bench-smoke bench_smoke ;;
sqlite) phase go-test-sqlite test_sqlite ;;
postgres)
	deps
	postgres_phases
	;;
mysql)
	deps
	mysql_phases
	;;
browser)
	deps
	browser_phase
	;;
*)
	echo "usage: $0 [all|sqlite|postgres|mysql|browser|fuzz|timing|bench]" >&2
	exit 2
	;;
esac

echo
echo "==> summary ($MODE, $((SECONDS - SUITE_START))s total)"
for line in "${SUMMARY[@]}"; do echo "    $line"; done
echo "phases: $((${#SUMMARY[@]} - ${#FAILED[@]})) passed, ${#FAILED[@]} failed"
if ((${#FAILED[@]} > 0)); then
	echo "==> FAILED: ${FAILED[*]}"
	exit 1
fi
echo "==> all phases passed"
