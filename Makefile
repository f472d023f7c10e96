# The README's two commands: `make run` (set up and start) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint bench

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: setup
	$(BIN)/python app.py

test: setup
	$(BIN)/python -m pytest -n auto --maxprocesses=4 --dist loadfile

# ruff (style), import-linter (the layering contracts in pyproject.toml), vulture (dead code,
# allow-list in vulture_allow.py), deptry (requirements nothing imports, imports nothing provides).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/vulture
	$(BIN)/deptry .

bench: setup
	for script in bench/[!_]*.py; do $(BIN)/python -m bench.$$(basename $$script .py) --quick || exit 1; done
