# One entry point per job. Each target creates .venv on first use and reinstalls when pyproject.toml changes.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lint demo bench schemas plugin-files clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,dev]"
	touch $(STAMP)

install: $(STAMP)

# pytest exits 5 when it collects no tests: a suite that runs nothing is a failure, not a pass.
# Tests run in parallel, one worker per core (at most 4; every test starts its own emulators on free ports); tests
# marked with one xdist_group (those sharing the repository's Meltano project) run on one worker.
test: $(STAMP)
	@$(PY) -m pytest tests --numprocesses=auto --maxprocesses=4 --dist loadgroup; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check tap_stripe_aep target_aep emulators tests scripts bench
	$(VENV)/bin/ruff format --check tap_stripe_aep target_aep emulators tests scripts bench

schemas: $(STAMP)
	$(PY) scripts/generate_stripe_schemas.py

# meltano.yml, hub/*.yml and the README settings tables, from the plugins' config schemas.
plugin-files: $(STAMP)
	$(PY) scripts/generate_plugin_files.py

demo: $(STAMP)
	$(PY) scripts/demo.py

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .demo .bench
