# ginauth — `make test` is the test command (see scripts/test.sh).
SHELL := /bin/bash
# Go may live outside PATH on fresh machines.
export PATH := $(PATH):/usr/local/go/bin

.PHONY: test test-sqlite test-postgres test-mysql test-browser deps vet fmt pg-start pg-stop demo bench

## test: full suite — deps, go vet, gofmt check, go test on SQLite and on PostgreSQL, timing tests, fuzz and bench smoke runs, browser tests
test:
	bash scripts/test.sh all

## test-sqlite: quick go test on SQLite only (no Postgres)
test-sqlite:
	bash scripts/test.sh sqlite

## test-postgres: go test on a throwaway PostgreSQL only
test-postgres:
	bash scripts/test.sh postgres

## test-mysql: go test on a throwaway MariaDB only
test-mysql:
	bash scripts/test.sh mysql

## test-browser: browser tests only (tests/browser)
test-browser:
	bash scripts/test.sh browser

## deps: install test dependencies (postgresql, chromium, npm packages)
deps:
	bash scripts/install-deps.sh

vet:
	go vet ./...
	cd tests/bench && go vet ./...

fmt:
	gofmt -w $$(find . \( -name .git -o -name node_modules -o -name vendor -o -name testdata \) -prune -o -type f -name '*.go' -print)

## pg-start / pg-stop: manual Postgres; then: eval "$$(scripts/pg.sh env)"
pg-start:
	bash scripts/pg.sh start
	@bash scripts/pg.sh env

pg-stop:
	bash scripts/pg.sh stop

## demo: run the example server
demo:
	go run ./example

## bench: benchmarks vs targets (tests/bench, throwaway Postgres); one table of ratios, see docs/performance.md
bench:
	bash scripts/bench.sh full

.PHONY: web
## web: build the demo website and run it (http://localhost:3000) next to the API (http://localhost:3001)
web:
	bash example/web/dev.sh

.PHONY: conformance
## conformance: supertokens-website's own test suite against ginauth (tests/conformance). Needs a checkout:
##   git clone --depth 1 --branch v20.1.7 https://github.com/supertokens/supertokens-website /tmp/stw
##   make conformance SUPERTOKENS_WEBSITE=/tmp/stw [CONFORMANCE_FILES="fetch.test.js ..."]
## Without SUPERTOKENS_WEBSITE it prints this and exits 0.
conformance:
	SUPERTOKENS_WEBSITE="$(SUPERTOKENS_WEBSITE)" bash scripts/conformance.sh $(CONFORMANCE_FILES)
