# The two commands: `make run` and `make test`. Both create or reuse .venv/.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/matcher run

test: $(STAMP)
	$(BIN)/ruff check matcher tests ui
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check matcher tests ui

clean:
	rm -rf $(VENV) .pytest_cache
