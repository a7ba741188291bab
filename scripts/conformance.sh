#!/usr/bin/env bash
# Runs supertokens-website's own browser test suite against ginauth's
# conformance server (tests/conformance). `make conformance` calls it.
#
#   SUPERTOKENS_WEBSITE=/path/to/supertokens-website scripts/conformance.sh [file.test.js ...]
#
# The suite is not part of this repository. Get it with:
#   git clone --depth 1 --branch v20.1.7 https://github.com/supertokens/supertokens-website
# (the tag this runner was written against; its lib/build and bundle/ are
# committed, so no build step is needed). Without SUPERTOKENS_WEBSITE the
# script says so and exits 0, so that CI stays green without the suite.
#
# What it does: installs the suite's test dependencies into a cache
# (tests/conformance/runner/package.json; puppeteer is a shim over
# puppeteer-core, so no browser is downloaded), copies the suite into a
# temporary folder (the checkout is never modified) with its fixed ports
# rewritten when asked, starts our two servers (main and cross-domain origin)
# and a local HTTPS server for the scripts the page would load from unpkg.com
# and cdn.skypack.dev, then runs each test file with mocha, one at a time,
# each bounded, with Debian's Chromium (one browser per file: see
# CONFORMANCE_BROWSER_PER_CASE). Summary: one line per file.
#
# Settings (environment):
#   CONFORMANCE_PORT          main server port (default 8080, the suite's own)
#   CONFORMANCE_CROSS_PORT    cross-domain server port (default 8082)
#   CONFORMANCE_ASSETS_PORT   local HTTPS port for unpkg/skypack (default 8443)
#   CONFORMANCE_FILE_TIMEOUT  seconds per test file (default 3600)
#   CONFORMANCE_TEST_TIMEOUT  mocha timeout per case in ms (default 120000)
#   CONFORMANCE_GREP          mocha --grep pattern (optional)
#   CONFORMANCE_ACCESS_LOG    non-empty: the servers log every request (in OUT/<file>.server.log)
#   CONFORMANCE_CACHE         npm cache folder (default tests/conformance/runner/.cache)
#   CONFORMANCE_OUT           logs and summary (default a temporary folder, printed)
#   CHROMIUM                  browser binary (default /usr/bin/chromium)
#   CONFORMANCE_BROWSER_PER_CASE  non-empty: a new Chromium for every case, as
#                             the suite asks; by default the puppeteer shim keeps
#                             one per file and gives each case an incognito context
#
#   CONFORMANCE_JOBS          files run this many at a time (default 1); job j
#                             (from 0) uses ports CONFORMANCE_PORT+4j and
#                             CONFORMANCE_CROSS_PORT+4j, each job its own copy of
#                             the suite. Timing-sensitive cases suffer on a busy
#                             machine.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
command -v go >/dev/null 2>&1 || export PATH=$PATH:/usr/local/go/bin

SUITE=${SUPERTOKENS_WEBSITE:-}
if [[ -z $SUITE ]]; then
	cat <<'EOF'
conformance: skipped, SUPERTOKENS_WEBSITE is not set.
  To run supertokens-website's own test suite against ginauth:
    git clone --depth 1 --branch v20.1.7 https://github.com/supertokens/supertokens-website /tmp/supertokens-website
    make conformance SUPERTOKENS_WEBSITE=/tmp/supertokens-website
  See tests/conformance/README.md.
EOF
	exit 0
fi
SUITE=$(cd "$SUITE" && pwd)
if [[ ! -f $SUITE/test/server/index.html || ! -f $SUITE/bundle/bundle.js || ! -d $SUITE/lib/build ]]; then
	echo "conformance: $SUITE is not a supertokens-website checkout (test/server/index.html, bundle/bundle.js, lib/build)" >&2
	exit 2
fi

PORT=${CONFORMANCE_PORT:-8080}
CROSS=${CONFORMANCE_CROSS_PORT:-8082}
ASSETS=${CONFORMANCE_ASSETS_PORT:-8443}
FILE_TIMEOUT=${CONFORMANCE_FILE_TIMEOUT:-3600}
TEST_TIMEOUT=${CONFORMANCE_TEST_TIMEOUT:-120000}
JOBS=${CONFORMANCE_JOBS:-1}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "conformance: CONFORMANCE_JOBS must be a positive number" >&2; exit 2; }
CACHE=${CONFORMANCE_CACHE:-$ROOT/tests/conformance/runner/.cache}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
RUNNER=$ROOT/tests/conformance/runner
[[ -x $CHROMIUM ]] || { echo "conformance: no browser at $CHROMIUM (apt-get install chromium; never downloaded)" >&2; exit 2; }

# 1. The suite's test dependencies, installed once (again when the lock changes).
mkdir -p "$CACHE"
if ! cmp -s "$RUNNER/package-lock.json" "$CACHE/package-lock.json" || [[ ! -d $CACHE/node_modules/mocha ]]; then
	echo "==> installing the suite's test dependencies into $CACHE"
	rm -rf "$CACHE/node_modules" "$CACHE/puppeteer-shim"
	cp "$RUNNER/package.json" "$RUNNER/package-lock.json" "$CACHE/"
	cp -r "$RUNNER/puppeteer-shim" "$CACHE/"
	(cd "$CACHE" && PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts)
fi
# The shim is ours and small: always the current one (npm links it).
cp "$RUNNER/puppeteer-shim/"* "$CACHE/puppeteer-shim/"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ginauth-conformance.XXXXXX")
OUT=${CONFORMANCE_OUT:-$WORK/out}
mkdir -p "$OUT"
PIDS=()
cleanup() {
	local rc=$?
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	# The servers and mocha runs the jobs started.
	if [[ -d $WORK/pids ]]; then
		for p in $(cat "$WORK"/pids/* 2>/dev/null); do
			kill "$p" 2>/dev/null || true
		done
	fi
	wait 2>/dev/null || true
	# Keep only the logs (OUT may live in WORK).
	find "$WORK" -mindepth 1 -maxdepth 1 ! -path "$OUT" -exec rm -rf {} + 2>/dev/null || true
	rmdir "$WORK" 2>/dev/null || true
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 2. A private copy of the suite per job, so the checkout stays untouched.
make_suite() { # dir port cross
	mkdir -p "$1"
	tar -C "$SUITE" --exclude=node_modules -cf - index.js package.json lib bundle test | tar -C "$1" -xf -
	ln -s "$CACHE/node_modules" "$1/node_modules"
	if [[ $2 != 8080 || $3 != 8082 ]]; then
		# The suite hard-codes localhost:8080 and :8082 (and 0.0.0.0:8080 as the tokens' iss).
		grep -rlE '(localhost(\.org)?|0\.0\.0\.0):808[02]' "$1/test" | while read -r f; do
			sed -i -E "s/(localhost(\.org)?|0\.0\.0\.0):8080/\1:$2/g; s/(localhost(\.org)?|0\.0\.0\.0):8082/\1:$3/g" "$f"
		done
	fi
}
for ((j = 0; j < JOBS; j++)); do
	make_suite "$WORK/suite$j" $((PORT + 4 * j)) $((CROSS + 4 * j))
done
mkdir -p "$WORK/pids"
VERSION=$(node -p "require('$WORK/suite0/lib/build/version').package_version")

# 3. The browser: Debian's Chromium with the page's CDNs mapped to our
# assets server (self-signed certificate, hence --ignore-certificate-errors).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=unpkg.com \
	-addext "subjectAltName=DNS:unpkg.com,DNS:cdn.skypack.dev" \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
cat >"$WORK/chromium" <<EOF
#!/bin/sh
exec "$CHROMIUM" "--host-rules=MAP unpkg.com 127.0.0.1:$ASSETS, MAP cdn.skypack.dev 127.0.0.1:$ASSETS, MAP localhost.org 127.0.0.1" \\
  --ignore-certificate-errors --disable-gpu --disable-quic --disable-background-networking \\
  --disable-component-update --disable-sync --disable-dev-shm-usage --no-first-run "\$@"
EOF
chmod +x "$WORK/chromium"
export PUPPETEER_EXECUTABLE_PATH=$WORK/chromium PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1

node "$RUNNER/assets.mjs" "$ASSETS" "$WORK/cert.pem" "$WORK/key.pem" "$CACHE/node_modules" >"$OUT/assets.log" 2>&1 &
PIDS+=($!)

echo "==> building the conformance server"
go build -o "$WORK/stserver" ./tests/conformance/cmd/stserver

wait_ping() {
	for _ in $(seq 1 100); do
		curl -fs "http://localhost:$1/ping" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "conformance: server on :$1 did not start" >&2
	return 1
}

# 4. Each file on fresh servers (fresh counters and databases), bounded;
# CONFORMANCE_JOBS files at a time.
FILES=("$@")
if [[ ${#FILES[@]} -eq 0 ]]; then
	mapfile -t FILES < <(cd "$WORK/suite0" && ls test/*.test.js | xargs -n1 basename)
fi
MOCHA_ARGS=(--exit --no-config --require isomorphic-fetch --timeout "$TEST_TIMEOUT" --reporter spec)
[[ -n ${CONFORMANCE_GREP:-} ]] && MOCHA_ARGS+=(--grep "$CONFORMANCE_GREP")

# run_file FILE JOB: one test file on job JOB's ports and suite copy; prints
# its summary line and adds its failures to $WORK/fail.JOB.
run_file() {
	local f=$1 j=$2 port=$((PORT + 4 * $2)) cross=$((CROSS + 4 * $2)) suite=$WORK/suite$2 data=$WORK/data$2
	local spid mpid rc start log pass failn pend note
	rm -rf "$data" && mkdir -p "$data"
	"$WORK/stserver" -port "$port" -cross-port "$cross" -website "http://localhost:$port" \
		-suite-server-dir "$suite/test/server" -package-version "$VERSION" -data-dir "$data" \
		${CONFORMANCE_ACCESS_LOG:+-access-log} \
		>"$OUT/${f%.test.js}.server.log" 2>&1 &
	spid=$!
	echo "$spid" >"$WORK/pids/server$j"
	wait_ping "$port" && wait_ping "$cross"
	start=$SECONDS
	(cd "$suite" && exec timeout -k 10 "$FILE_TIMEOUT" node_modules/.bin/mocha "${MOCHA_ARGS[@]}" "test/$f") >"$OUT/${f%.test.js}.log" 2>&1 &
	mpid=$!
	echo "$mpid" >"$WORK/pids/mocha$j"
	set +e
	wait "$mpid"
	rc=$?
	set -e
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	log=$OUT/${f%.test.js}.log
	if grep -qE '^ +[0-9]+ passing' "$log"; then
		pass=$(grep -oE '^ +[0-9]+ passing' "$log" | grep -oE '[0-9]+')
		failn=$(grep -oE '^ +[0-9]+ failing' "$log" | grep -oE '[0-9]+' || echo 0)
		pend=$(grep -oE '^ +[0-9]+ pending' "$log" | grep -oE '[0-9]+' || echo 0)
	else
		# Cut short (time limit): count the cases mocha reported so far.
		pass=$(grep -cE '^ +✓ ' "$log" || true)
		failn=$(grep -cE '^ +[0-9]+\) ' "$log" || true)
		pend=$(grep -cE '^ +- ' "$log" || true)
	fi
	note="$((SECONDS - start))s"
	[[ $rc -eq 124 || $rc -eq 137 ]] && note="$note TIMED OUT"
	[[ $rc -ne 0 && $failn -eq 0 ]] && { note="$note rc=$rc"; failn=1; }
	echo "$failn" >>"$WORK/fail.$j"
	printf '%-45s %8s %8s %8s %s\n' "$f" "$pass" "$failn" "$pend" "$note" | tee -a "$OUT/summary.txt"
}

printf '%-45s %8s %8s %8s %s\n' file passing failing pending note | tee "$OUT/summary.txt"
for ((j = 0; j < JOBS; j++)); do
	(
		for ((i = j; i < ${#FILES[@]}; i += JOBS)); do
			run_file "$(basename "${FILES[$i]}")" "$j"
		done
	) &
	PIDS+=($!)
done
wait "${PIDS[@]:1}" || true # the jobs (PIDS[0] is the assets server)
TOTAL_FAIL=$(cat "$WORK"/fail.* 2>/dev/null | awk '{s += $1} END {print s + 0}')
echo "==> logs and summary in $OUT"
[[ $TOTAL_FAIL -eq 0 ]]
