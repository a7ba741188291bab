#!/usr/bin/env bash
# Builds and runs the demo with SuperTokens' pre-built UI on this machine —
#   the API      (go run ./example)  on API_DOMAIN,     default http://localhost:3001
#   the website  (example/prebuilt)  on WEBSITE_DOMAIN, default http://localhost:3000
# Ctrl-C stops both. It takes the plain website's place (same ports, the
# API's default WEBSITE_DOMAIN), so run one or the other. Every setting of
# the API (see example/README.md) passes through.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
# The npm dependencies are esbuild, react and supertokens-auth-react.
source ../devrun.sh
run_demo
