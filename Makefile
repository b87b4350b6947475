# Perennial's everyday commands. On a fresh Debian 12 machine `make run` and `make test` are all
# you need: both call scripts/bootstrap first (packages, .venv, Redis, and for the tests
# PostgreSQL; idempotent).
SHELL := /bin/bash
BIN := .venv/bin
PYTEST_ARGS ?=
SUMMARY := .run/test-summary
# Values from .run/env (written by scripts/bootstrap). These are expanded when a recipe runs, i.e.
# after its bootstrap prerequisite, so they see this checkout's ports.
run_env = $(shell sed -n 's/^$(1)=//p' .run/env 2>/dev/null)
TEST_REDIS_URL = $(patsubst %/0,%/15,$(or $(call run_env,REDIS_URL),redis://127.0.0.1:6379/0))
TEST_PG_URL = $(or $(call run_env,TEST_PG_URL),postgresql+psycopg://postgres@127.0.0.1:5499/perennial_test)
CHROMIUM_PATH = $(or $(call run_env,CHROMIUM_PATH),/usr/bin/chromium)
SQLITE_ENV = TEST_REDIS_URL=$(TEST_REDIS_URL) CHROMIUM_PATH=$(CHROMIUM_PATH)
PG_ENV = $(SQLITE_ENV) TEST_DATABASE_URL=$(TEST_PG_URL)

# $(call pytest,LABEL,ENV,DIRS): run pytest on those of DIRS that exist and append the result to
# $(SUMMARY). Exit code 5 (no tests collected) passes: a directory may legitimately have none yet.
pytest = dirs=; for d in $(3); do if [ -d "$$d" ]; then dirs="$$dirs $$d"; fi; done; \
	s=0; if [ -z "$$dirs" ]; then r="no tests yet ($(3) missing)"; else \
	echo "==> $(1): pytest$$dirs $(PYTEST_ARGS)"; \
	env -u TEST_DATABASE_URL $(2) $(BIN)/pytest$$dirs $(PYTEST_ARGS) || s=$$?; \
	case $$s in 0) r=passed;; 5) r="no tests collected"; s=0;; *) r="FAILED (pytest exit $$s)";; esac; \
	fi; printf '%-22s %s\n' "$(1)" "$$r" >>$(SUMMARY); echo "<== $(1): $$r"; test $$s -eq 0

# $(call summary,START): print the collected results; fail if any step failed.
summary = echo "==== make $@ summary ($$(( $$(date +%s) - $(1) ))s):"; cat $(SUMMARY); \
	if grep -q FAILED $(SUMMARY); then echo "==== make $@: FAILED"; exit 1; fi; \
	echo "==== make $@: passed"

.PHONY: run test test-sqlite test-pg test-e2e lint format bench worker stop bootstrap

run:
	@scripts/bootstrap run
	$(BIN)/python scripts/run

test: bootstrap
	@start=$$(date +%s); rm -f $(SUMMARY); \
	( $(call pytest,unit+web on SQLite,$(SQLITE_ENV),tests/unit tests/web tests/faults) ) || true; \
	( $(call pytest,unit+web on PostgreSQL,$(PG_ENV),tests/unit tests/web tests/faults) ) || true; \
	( $(call pytest,browser (e2e),$(SQLITE_ENV),tests/e2e) ) || true; \
	$(call summary,$$start)

test-sqlite: bootstrap
	@start=$$(date +%s); rm -f $(SUMMARY); \
	( $(call pytest,unit+web on SQLite,$(SQLITE_ENV),tests/unit tests/web tests/faults) ) || true; \
	$(call summary,$$start)

test-pg: bootstrap
	@start=$$(date +%s); rm -f $(SUMMARY); \
	( $(call pytest,unit+web on PostgreSQL,$(PG_ENV),tests/unit tests/web tests/faults) ) || true; \
	$(call summary,$$start)

test-e2e: bootstrap
	@start=$$(date +%s); rm -f $(SUMMARY); \
	( $(call pytest,browser (e2e),$(SQLITE_ENV),tests/e2e) ) || true; \
	$(call summary,$$start)

lint:
	@scripts/bootstrap venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	@scripts/bootstrap venv
	$(BIN)/ruff check --select I --fix .
	$(BIN)/ruff format .

bench: bootstrap
	@shopt -s nullglob; files=(bench/[!_]*.py); rc=0; \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks in bench/ yet"; fi; \
	for f in "$${files[@]}"; do echo "==> $$f"; $(BIN)/python "$$f" || rc=1; done; exit $$rc

worker: bootstrap
	$(BIN)/flask --app wsgi worker

stop:
	@scripts/stop

bootstrap:
	@scripts/bootstrap
