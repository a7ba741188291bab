#!/usr/bin/env bash
# Benchmarks (tests/bench). `make bench` runs `scripts/bench.sh full`.
#
#   full    start a throwaway PostgreSQL (scripts/pg.sh), run the verify,
#           guard-cost and attach benchmarks (-count BENCH_COUNT, default 5),
#           the sign-in load test (1, 8, 64, 512 clients), the refresh test (its floor
#           and pgbench beside it, 1e3 and 1e6 sessions), the peers over
#           HTTP (supertokens-node, Better Auth; node, tests/bench/peers) and
#           the mixed-traffic soak (100,000 users, 60 s), then print one
#           table of ratios vs targets (tests/bench/cmd/benchreport). Raw
#           output goes to BENCH_DIR (default /tmp/ginauth-bench).
#   smoke   the same with a few iterations and tiny counts, to check that
#           everything still runs (scripts/test.sh runs it; < 90 s). When
#           node or the peers' npm packages are missing, the peers are
#           skipped with a message.
#
# PostgreSQL is stopped on exit if this script started it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v go >/dev/null 2>&1 || export PATH=$PATH:/usr/local/go/bin

MODE=${1:-full}
# Own port, so that a test cluster on the default one is left alone.
export GINAUTH_PG_PORT=${GINAUTH_BENCH_PG_PORT:-55442}
OUT=${BENCH_DIR:-/tmp/ginauth-bench}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) # absolute: the go commands run in tests/bench
PG_STARTED=
cleanup() {
	local rc=$?
	if [[ -n $PG_STARTED ]]; then
		scripts/pg.sh stop || true
	fi
	exit "$rc"
}
trap cleanup EXIT

if [[ -z ${GINAUTH_TEST_DATABASE_URL:-} ]]; then
	PG_STARTED=1
	scripts/pg.sh start
	eval "$(scripts/pg.sh env)"
	export GINAUTH_TEST_DATABASE_URL
fi

mkdir -p "$OUT"
rm -f "$OUT/bench.txt" "$OUT/load.jsonl"

# The node peers (tests/bench/peers): npm ci when node_modules is missing or
# was installed from another package-lock.json (its hash is kept in
# node_modules; mtimes change with every checkout). A failure is not fatal:
# TestPeersLoad skips with a message.
peers_deps() {
	local dir=tests/bench/peers want have=
	if ! command -v npm >/dev/null 2>&1; then
		echo "==> peers: npm not found; supertokens-node and Better Auth are not measured"
		return
	fi
	want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
	[[ -f $dir/node_modules/.ginauth-lock-sha256 ]] && have=$(cat "$dir/node_modules/.ginauth-lock-sha256")
	if [[ $have == "$want" ]]; then
		return
	fi
	echo "==> peers: npm ci in $dir"
	if (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2); then
		echo "$want" >"$dir/node_modules/.ginauth-lock-sha256"
	else
		echo "==> peers: npm ci failed; supertokens-node and Better Auth are not measured"
		rm -rf "$dir/node_modules"
	fi
}
peers_deps

case $MODE in
full)
	BENCH=(-count "${BENCH_COUNT:-5}" -benchtime "${BENCH_TIME:-1s}")
	LOAD=(-bench.clients=1,8,64,512 -bench.duration=4s -bench.rounds=3 -bench.sessions=1000,1000000 -bench.latn=400
		-bench.peers.clients=16 -bench.peers.duration=5s -bench.peers.rounds=3
		-bench.soak.users=100000 -bench.soak.duration=60s -bench.soak.clients=32 -bench.soak.windows=6)
	TIMEOUT=60m
	;;
smoke)
	BENCH=(-count 1 -benchtime 10x)
	LOAD=(-bench.clients=1,8 -bench.requests=8 -bench.duration=1s -bench.rounds=1 -bench.sessions=100,200 -bench.latn=5
		-bench.peers.clients=4 -bench.peers.duration=300ms -bench.peers.rounds=1
		-bench.soak.users=1000 -bench.soak.duration=2s -bench.soak.clients=8 -bench.soak.windows=2)
	TIMEOUT=5m
	;;
*)
	echo "usage: $0 [full|smoke]" >&2
	exit 2
	;;
esac

echo "==> verify and attach benchmarks (raw output: $OUT/bench.txt)"
(cd tests/bench && go test . -run '^$' -bench '^Benchmark(Verify|GuardCost|Attach)' -benchmem "${BENCH[@]}" -timeout "$TIMEOUT") | tee "$OUT/bench.txt"
echo "==> load tests: sign-in, refresh and its floor, peers over HTTP, soak (results: $OUT/load.jsonl)"
(cd tests/bench && go test . -count 1 -run '^(Test(SignIn|Refresh|Peers)Load|TestRefreshFloorStatements|TestSoak)$' -v -timeout "$TIMEOUT" \
	-args -bench.load -bench.out="$OUT/load.jsonl" "${LOAD[@]}") | grep -vE '^(=== RUN|\s*$)'
echo
echo "==> results ($(nproc) cores, $(go env GOVERSION), $MODE)"
(cd tests/bench && go run ./cmd/benchreport -bench "$OUT/bench.txt" -load "$OUT/load.jsonl")
