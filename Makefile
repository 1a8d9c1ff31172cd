# envctl developer commands. `make test` and `make demo` set everything up themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

ASL_VALIDATOR := .tools/node_modules/.bin/asl-validator

.PHONY: test demo lint bench package clean mutation

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
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml
	$(BIN)/cfn-lint infra/spoke.yaml
	$(BIN)/python -m pytest -q -n auto

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
	$(BIN)/python benchmarks/webhooks.py

# Mutation testing of the decision code (docs/mutation.md): mutmut runs in a copy under
# MUTATION_WORKDIR, niced, one worker. MUTATION_MODULES: names from
# `tools/mutation/run.py --list`, or "all"; the default is the fast unit-tested ones.
MUTATION_MODULES ?=
MUTATION_WORKDIR ?= /tmp/envctl-mutation

mutation: $(STAMP)
	MUTATION_WORKDIR="$(MUTATION_WORKDIR)" $(BIN)/python tools/mutation/run.py $(MUTATION_MODULES)

# The Lambda bundle for template.yaml: code, the compositions file (CONFIG) and the
# runtime dependencies pinned from pyproject.toml, built for arm64 / Python 3.12.
CONFIG ?= compositions.yaml
LAMBDA_PYTHON ?= python3.12
LAMBDA_PLATFORM := --platform manylinux2014_aarch64 --implementation cp --python-version 3.12 --only-binary=:all:

package: $(STAMP)
	@test -f "$(CONFIG)" || { echo "make package: $(CONFIG) not found; pass CONFIG=path/to/compositions.yaml" >&2; exit 2; }
	$(BIN)/envctl -c "$(CONFIG)" validate
	rm -rf build/lambda build/pkgvenv
	$(PYTHON) -m venv build/pkgvenv
	build/pkgvenv/bin/python -m pip install --quiet .
	build/pkgvenv/bin/python -m pip freeze --exclude-editable | grep -vi '^envctl' > build/requirements.txt
	$(BIN)/python -m pip install --quiet --target build/lambda $(LAMBDA_PLATFORM) -r build/requirements.txt
	cp -r scheduler_core bot build/lambda/
	cp "$(CONFIG)" build/lambda/compositions.yaml
	find build/lambda -name __pycache__ -prune -exec rm -rf {} +
	@# Bytecode for the runtime's Python: /var/task is read-only, so without it every cold
	@# start compiles from source. unchecked-hash: valid whatever the zip does to mtimes.
	@$(LAMBDA_PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null || { echo "make package: bytecode must be compiled by Python 3.12 (the Lambda runtime); $(LAMBDA_PYTHON) is not it: pass LAMBDA_PYTHON=/path/to/python3.12" >&2; exit 2; }
	$(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash build/lambda
	@echo "build/lambda is ready (pinned: build/requirements.txt); deploy with: sam deploy --guided"

clean:
	rm -rf $(VENV) .tools .pytest_cache build *.egg-info
