# The two commands: `make run` and `make test`. Both create or reuse .venv/.
# Dependencies come from requirements.lock (exact versions with hashes, every extra);
# `make lock` writes it again after a change to pyproject.toml's dependencies.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: run test lint install lock wheel clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/matcher run

test: $(STAMP)
	$(BIN)/ruff check matcher tests ui
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check matcher tests ui

lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 \
		--generate-hashes --quiet -o $(LOCK)

wheel: $(STAMP)
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w dist .

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
