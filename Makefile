# Berkas: the two README commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install lint typecheck layers test demo bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Berkas membutuhkan Python 3.11 atau lebih baru")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# DESIGN.md's import arrows (pyproject.toml [tool.importlinter]).
layers: install
	$(BIN)/lint-imports

# Two pytest-xdist workers (CI has two cores; more would only contend, since many tests
# start servers and conversion processes of their own); whole files go to one worker, so
# session- and module-scoped fixtures are built once per worker, as in a serial run.
PYTEST_PARALLEL := -n 2 --dist loadfile

test: lint typecheck layers
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_PARALLEL)

demo: install
	$(BIN)/berkas demo

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) berkas-demo .mypy_cache .ruff_cache .pytest_cache
