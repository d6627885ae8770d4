# The commands a developer and CI share. `make test` is the test command
# the README gives; .ci/run calls it after the static checks.

.PHONY: test test-postgres check generate serve js-deps browser-deps console console-deps pg-deps compare compare-smoke reliability vulncheck

# test runs every test with the race detector; the end-to-end tests drive the
# server with the official JavaScript clients and a browser, and run
# examples/node-session, the console's test rebuilds its script to compare
# it with the committed one, and the store's tests start PostgreSQL, so
# their packages come first.
test: js-deps browser-deps console-deps pg-deps
	go test -race -timeout 15m ./...

# reliability runs the crash-safety harness at full length: 20 kill -9
# cycles per store engine (`make test` runs 3, on a server built with the
# race detector), and the descriptor exhaustion test. Without the race
# detector, each cycle puts several times more requests in flight.
# ENGINES=sqlite,postgres by default (PostgreSQL from internal/pgtest).
ENGINES ?= sqlite,postgres
reliability: pg-deps
	go test -timeout 60m -count=1 -v ./reliability -args -cycles 20 -engines $(ENGINES)

# vulncheck reports known vulnerabilities in the code and the modules it
# calls (golang.org/x/vuln's govulncheck, fetched by the go command).
vulncheck:
	go run golang.org/x/vuln/cmd/govulncheck@v1.9.0 ./...

# test-postgres runs the end-to-end suite, and the other tests that start
# servers through carillontest, with the servers' data in PostgreSQL.
test-postgres: js-deps pg-deps
	CARILLON_TEST_STORE=postgres go test -race -timeout 15m ./e2e/ ./carillontest/

# js-deps installs the npm packages of e2e/js and examples/node-session
# exactly as locked, when they are missing or older than the lock file.
JS_DIRS := e2e/js examples/node-session
js-deps:
	@for d in $(JS_DIRS); do \
		if [ ! -d $$d/node_modules ] || [ $$d/package-lock.json -nt $$d/node_modules/.package-lock.json ]; then \
			(cd $$d && npm ci --no-audit --no-fund) || exit 1; \
		fi; \
	done

# browser-deps installs Debian's chromium for e2e/browser when no Chromium is
# found ($$CARILLON_CHROMIUM names another binary).
browser-deps:
	@if [ -z "$$CARILLON_CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1 && \
	    ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then \
		echo "installing chromium for e2e/browser"; \
		sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium; \
	fi

# console rebuilds the web console's script (console/web/dist/console.js)
# from its sources, with esbuild and the SDKs its lock file pins. The
# result is committed, so that go build alone makes a working binary;
# console/console_test.go (TestBundleIsCurrent) and CI rebuild it and fail
# when it differs.
console: console-deps
	cd console/web && npm run build

# console-deps installs console/web's packages exactly as locked, when
# they are missing or older than the lock file.
console-deps:
	@if [ ! -d console/web/node_modules ] || [ console/web/package-lock.json -nt console/web/node_modules/.package-lock.json ]; then \
		cd console/web && npm ci --no-audit --no-fund; \
	fi

# pg-deps installs Debian's postgresql-15, whose server the tests of the
# PostgreSQL store start (internal/pgtest), when it is missing
# ($$CARILLON_PG_BINDIR names another directory of server binaries).
pg-deps:
	@if [ ! -x "$${CARILLON_PG_BINDIR:-/usr/lib/postgresql/15/bin}/postgres" ]; then \
		echo "installing postgresql-15 for the PostgreSQL store's tests"; \
		sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends postgresql-15; \
	fi

# check runs the static checks CI runs.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	go tool staticcheck ./...

# generate regenerates the API shapes from api/models.
generate:
	go generate ./api/...

serve:
	go run ./cmd/carillon serve

# compare runs the comparison with Centrifugo and a bare net/http handler
# that docs/performance.md describes; ARGS passes flags, e.g.
# make compare ARGS='-scenarios send,fanout -runs 5 -out compare.md'.
compare:
	go run ./bench/compare $(ARGS)

# compare-smoke runs the comparison at its tiny size, as CI does: it must
# produce numbers and asserts nothing about them. Centrifugo is built once
# into the user's cache directory; a build that cannot finish in time
# leaves it out of the table, which says so.
compare-smoke:
	go run ./bench/compare -size tiny -install-timeout 3m
