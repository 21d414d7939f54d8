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
# Tests run in parallel, one worker per core (at most 4; every test starts its own emulators on free ports), except
# the two files that run `meltano` in the repository's own project (its .meltano: catalog file, state database):
# they run after, in one process. (`--dist loadgroup` with their xdist_group still put test_meltano_run's tests on
# two workers, each building the module's pipeline in the same project at once.)
SERIAL_TESTS = tests/pipeline/test_meltano_run.py tests/pipeline/test_meltano_signals.py
test: $(STAMP)
	@$(PY) -m pytest tests --numprocesses=auto --maxprocesses=4 --dist loadgroup $(SERIAL_TESTS:%=--ignore=%); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	$(PY) -m pytest -p no:xdist $(SERIAL_TESTS); rc2=$$?; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi; exit $$rc2

lint: $(STAMP)
	$(VENV)/bin/ruff check tap_stripe_aep target_aep stripe_aep_shared emulators tests scripts bench
	$(VENV)/bin/ruff format --check tap_stripe_aep target_aep stripe_aep_shared emulators tests scripts bench

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
