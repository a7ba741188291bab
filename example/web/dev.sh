#!/usr/bin/env bash
# `make web`: builds and runs the whole demo on this machine —
#   the API     (go run ./example)   on API_DOMAIN,     default http://localhost:3001
#   the website (example/web)        on WEBSITE_DOMAIN, default http://localhost:3000
# Ctrl-C stops both. Every setting of the API (see example/README.md) passes
# through; DEMO_DEV_ROUTES defaults to 1 here (the "Make me admin" button, and
# a fixed development TOTP key unless TOTP_SECRET_KEY is set) and DEMO_OIDC
# to 1 (the "Continue with Dev OIDC" button, backed by a local OpenID Connect
# provider on DEMO_OIDC_ADDR, default 127.0.0.1:3002).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
command -v go >/dev/null 2>&1 || export PATH=$PATH:/usr/local/go/bin

# npm dependencies (esbuild, supertokens-web-js), when missing or stale.
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
(cd ../.. && DEMO_DEV_ROUTES=${DEMO_DEV_ROUTES:-1} DEMO_OIDC=${DEMO_OIDC:-1} exec "$tmp/ginauth-demo") &
api=$!
node serve.mjs
