# envctl developer commands. `make test` and `make demo` set everything up themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

ASL_VALIDATOR := .tools/node_modules/.bin/asl-validator

.PHONY: test demo lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# An independent check that generated state machines are valid ASL (npm package).
$(ASL_VALIDATOR):
	npm install --silent --no-audit --no-fund --prefix .tools asl-validator@4.0.0

test: $(STAMP) $(ASL_VALIDATOR)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/envctl demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/windows.py
	$(BIN)/python benchmarks/apply.py
	$(BIN)/python benchmarks/slack.py

clean:
	rm -rf $(VENV) .tools .pytest_cache build *.egg-info
