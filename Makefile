# RouteLedger: `make demo` and `make test` are the two commands a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The suite on every core (pytest-xdist; tests/conftest.py keeps a file, and a folder sharing an
# expensive session fixture, on one worker); `PYTEST_WORKERS=0` runs it in one process.
# `make test PYTEST_ARGS="-m 'not slow'"`: the fast tier.
PYTEST_WORKERS ?= auto

.PHONY: venv test lint audit demo bench lock clean

# Each step says what it does; pip shows each dependency it collects and installs.
$(STAMP): requirements-dev.lock pyproject.toml
	@echo "==> $(VENV): a virtual environment for RouteLedger (Python >= 3.11)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> upgrading pip"
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> installing the pinned dependencies of requirements-dev.lock (a few minutes on a fresh machine)"
	$(BIN)/python -m pip install --require-hashes -r requirements-dev.lock
	@echo "==> installing RouteLedger itself (editable)"
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)
	@echo "==> $(VENV) is ready"

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check app collectors tests benchmarks
	$(BIN)/ruff format --check app collectors tests benchmarks
	$(BIN)/lint-imports --no-logo --no-cache
	$(BIN)/mypy collectors app/tuner

test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Known vulnerabilities of every pin of requirements-dev.lock, and per pin what it was audited
# against (.ci/audit.py): per-version advisories (pip-audit, or the index's /pypi/NAME/VERSION/json),
# else the newest release's when that is the pin; a pin checked only against another release, or
# not at all, yanked or not served by the index, is a WARNING line. Fails on a vulnerability or
# when nothing could be audited; AUDIT_ARGS=--strict fails on every WARNING too.
audit: $(STAMP)
	$(BIN)/python .ci/audit.py $(AUDIT_ARGS)

# make demo PORT=8600 NO_BROWSER=1 DEMO_ARGS=--rebuild: passed on to `routeledger demo`
DEMO_FLAGS = $(if $(PORT), --port $(PORT))$(if $(NO_BROWSER), --no-browser)$(if $(DEMO_ARGS), $(DEMO_ARGS))
demo: $(STAMP)
	$(BIN)/routeledger demo$(DEMO_FLAGS)

# The long benchmarks (see benchmarks/README.md): ingest at BENCH_ROWS, marts at 10M attempts.
BENCH_ROWS ?= 1000000
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py --rows $(BENCH_ROWS)
	$(BIN)/python benchmarks/marts.py --attempts 10000000

# Re-pin every dependency (needs `uv` on PATH: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
