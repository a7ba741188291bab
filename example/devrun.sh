# Sourced by web/dev.sh and prebuilt/dev.sh, which cd into their website's
# folder first: run_demo builds that website and the API, runs the API from
# the repository root (so the default SQLite file is ./ginauth-demo.db
# there) with the environment the arguments add (NAME=value ...), and serves
# the website in the foreground. Ctrl-C, or the website server's exit,
# stops both.

run_demo() {
	command -v go >/dev/null 2>&1 || export PATH=$PATH:/usr/local/go/bin

	# npm dependencies, when missing or stale.
	stamp=node_modules/.package-lock.json
	if [[ ! -f $stamp || package-lock.json -nt $stamp ]]; then
		npm ci --no-audit --no-fund --loglevel=error
	fi
	node build.mjs

	tmp=$(mktemp -d)
	api=
	trap demo_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	(cd ../.. && go build -o "$tmp/ginauth-demo" ./example)
	(cd ../.. && exec env "$@" "$tmp/ginauth-demo") &
	api=$!
	node serve.mjs
}

demo_cleanup() {
	if [[ -n $api ]]; then
		kill "$api" 2>/dev/null || true
		wait "$api" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
