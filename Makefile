# Two commands do all set-up: `make run` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ARGS ?=
# the tests run in one pytest-xdist worker per core (at most four), a test file per worker
# at a time: module fixtures are built once, and the suite takes about half the time
PYTEST := $(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

.PHONY: run test test-fast system-packages demo lint bench bench-scale clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==26.3"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)  ## fetch (or pick up data/raw), parse, validate and load every revision
	$(BIN)/migstock run $(ARGS)

demo: $(STAMP)  ## synthetic workbooks of every layout through the whole flow, offline
	$(BIN)/migstock demo

bench: $(STAMP)  ## parse-speed benchmark (see scripts/benchmark.py)
	$(BIN)/python scripts/benchmark.py

bench-scale: $(STAMP)  ## full-size benchmark: the twelve catalog workbooks at real size (synthetic), minutes and GBs; ARGS="--baseline DIR --repeat 3 --set nine"
	$(BIN)/python scripts/benchmark.py --section scale $(ARGS)

test: $(STAMP) system-packages  ## lint and run the whole test suite (what CI runs)
	$(BIN)/ruff check src flows tests scripts
	$(PYTEST)

test-fast: $(STAMP)  ## daily work: no Chromium, no kill trials, no wheel build (about 2½ minutes)
	$(BIN)/ruff check src flows tests scripts
	$(PYTEST) -m "not browser and not slow"

system-packages:  ## Debian's chromium and Noto fonts for the tests (as root; else says how)
	@scripts/system-packages.sh

lint: $(STAMP)
	$(BIN)/ruff check src flows tests scripts
	$(BIN)/ruff format --check src flows tests scripts

clean:
	rm -rf $(VENV) data/curated/* .pytest_cache .ruff_cache
