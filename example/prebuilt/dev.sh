#!/usr/bin/env bash
# Builds and runs the demo with SuperTokens' pre-built UI on this machine —
#   the API      (go run ./example)  on API_DOMAIN,     default http://localhost:3001
#   the website  (example/prebuilt)  on WEBSITE_DOMAIN, default http://localhost:3000
# Ctrl-C stops both. It takes the plain website's place (same ports, the
# API's default WEBSITE_DOMAIN), so run one or the other. Every setting of
# the API (see example/README.md) passes through.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
command -v go >/dev/null 2>&1 || export PATH=$PATH:/usr/local/go/bin

# npm dependencies (esbuild, react, supertokens-auth-react), when missing or stale.
stamp=node_modules/.package-lock.json
if [[ ! -f $stamp || package-lock.json -nt $stamp ]]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
node build.mjs

tmp=$(mktemp -d)
api=
cleanup() {
	if [[ -n $api ]]; then
		kill "$api" 2>/dev/null || true
		wait "$api" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(cd ../.. && go build -o "$tmp/ginauth-demo" ./example)
# Run from the repository root, so the default SQLite file is ./ginauth-demo.db there.
(cd ../.. && exec "$tmp/ginauth-demo") &
api=$!
node serve.mjs
