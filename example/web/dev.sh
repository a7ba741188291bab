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
# The npm dependencies are esbuild and supertokens-web-js.
source ../devrun.sh
run_demo DEMO_DEV_ROUTES="${DEMO_DEV_ROUTES:-1}" DEMO_OIDC="${DEMO_OIDC:-1}"
