# The commands a developer and CI share. `make test` is the test command
# the README gives; .ci/run calls it after the static checks.

.PHONY: test test-postgres check generate serve js-deps browser-deps pg-deps

# test runs every test with the race detector; the end-to-end tests drive the
# server with the official JavaScript clients and a browser, and the store's
# tests start PostgreSQL, so their packages come first.
test: js-deps browser-deps pg-deps
	go test -race -timeout 15m ./...

# test-postgres runs the end-to-end suite, and the other tests that start
# servers through carillontest, with the servers' data in PostgreSQL.
test-postgres: js-deps pg-deps
	CARILLON_TEST_STORE=postgres go test -race -timeout 15m ./e2e/ ./carillontest/

# js-deps installs e2e/js's packages exactly as locked, when they are missing
# or older than the lock file.
js-deps:
	@if [ ! -d e2e/js/node_modules ] || [ e2e/js/package-lock.json -nt e2e/js/node_modules/.package-lock.json ]; then \
		cd e2e/js && npm ci --no-audit --no-fund; \
	fi

# browser-deps installs Debian's chromium for e2e/browser when no Chromium is
# found ($$CARILLON_CHROMIUM names another binary).
browser-deps:
	@if [ -z "$$CARILLON_CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1 && \
	    ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then \
		echo "installing chromium for e2e/browser"; \
		sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium; \
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
