# Set-up is automatic: every target builds .venv with a Python >= 3.12 on first use.
# Override the interpreter with `make PYTHON=/path/to/python3.12 <target>`.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= results/demo
DEMO_ARGS ?= --replicates 5
FULL ?= 0

.PHONY: venv demo screenshots test test-fuzz lint docs baseline experiments bench equivalence profile validate dashboard clean
venv: $(STAMP)

$(STAMP): pyproject.toml
	@py=$$(PYTHON="$(PYTHON)" scripts/find-python.sh) || exit 1; \
	echo "Using $$py ($$($$py --version))"; \
	[ -x $(BIN)/python ] || $$py -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Run the default comparison: the default PCN against generalist, fragmented and mixed teams.
demo: $(STAMP)
	$(BIN)/handover-abm compare configs/default.yaml configs/generalist.yaml \
	  configs/fragmented.yaml configs/mixed.yaml --out $(DEMO_OUT) --force $(DEMO_ARGS)
	$(BIN)/handover-abm report $(DEMO_OUT)

## Run every experiment of experiments/ at reduced size (FULL=1 for full size), with reports.
experiments: $(STAMP)
	FULL=$(FULL) BIN=$(BIN) experiments/run.sh

## Throughput against bare SimPy/Ciw queues, scaling, memory, calibration-sized runs and sweeps, each
## ratio beside its target: results/bench.json, results/bench.png (BENCH_ARGS=--million adds 1M patients).
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

## Equivalence of the model before (REF, default: merge base with main) and now over 20 seeds.
REF ?=
equivalence: $(STAMP)
	$(BIN)/python benchmarks/equivalence.py $(if $(REF),--ref $(REF)) $(EQUIVALENCE_ARGS)

## Profile of a 50,000-patient PCN-year with the share of time per mechanism: results/profile.txt.
profile: $(STAMP)
	$(BIN)/python benchmarks/profile_run.py

## Validation suite (analytic limits, loss mechanism, conservation, queueing, published patterns).
validate: $(STAMP)
	$(BIN)/handover-abm validate-model

## Interactive what-if dashboard on http://127.0.0.1:8765 (CONFIG=... to start from another config).
CONFIG ?= configs/default.yaml
dashboard: $(STAMP)
	$(BIN)/handover-abm dashboard $(CONFIG)

## Refresh the README's dashboard screenshots (results/dashboard*.png) by running the browser test.
screenshots: $(STAMP)
	HANDOVER_ABM_SCREENSHOTS=results $(BIN)/python -m pytest tests/test_dashboard.py

## Run the test suite, one pytest-xdist worker per CPU, each file on one worker (pyproject.toml; `-n 0`
## to run serially); property tests derandomized: the same examples on every run (tests/conftest.py).
test: $(STAMP)
	$(BIN)/python -m pytest

## Property tests only, with fresh random examples and many more of them (local exploration).
test-fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -m hypothesis

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

## Regenerate docs/parameters.md from the schema and the catalogue.
docs: $(STAMP)
	$(BIN)/python scripts/gen_docs.py

## Rewrite the seeded regression baseline (tests/baseline/expected.json): only for intended changes.
baseline: $(STAMP)
	$(BIN)/python scripts/refresh_baseline.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
