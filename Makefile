# Everything a fresh machine needs: `make demo` and `make test` install what they use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck docs bench mutation clean-venv

setup: $(STAMP)

# torch is installed first, pinned, so that pip takes the local CPU build instead of pulling
# several GB of CUDA packages for a newer release; the extras then find it satisfied.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	bash scripts/demo.sh

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy memplan costmodel
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy memplan costmodel

docs: setup
	$(BIN)/python scripts/gen_rule_docs.py

# Benchmarks write their results next to their scripts; commit them with the machine they ran on.
bench: setup
	$(BIN)/python benchmarks/preflight/cold_check.py
	$(BIN)/python benchmarks/memplan/speed.py
	$(BIN)/python benchmarks/memplan/accuracy.py
	$(BIN)/python benchmarks/memplan/peers.py
	$(BIN)/python benchmarks/costmodel/bench_spot.py
	$(BIN)/python benchmarks/costmodel/seed_numbers.py
	$(BIN)/python benchmarks/aws/audit_cost.py
	$(BIN)/python benchmarks/trainjob/bench_overhead.py

# Mutation testing of the modules that guard work ([tool.mutmut] in pyproject.toml lists them and
# the fast tests that cover them). Not part of `make test`: about 45 minutes on 2 cores.
# Mutants run from a copy under mutants/; results: benchmarks/mutation/results.md.
mutation: setup
	env -u PYTHONPATH $(BIN)/mutmut run --max-children 2
	$(BIN)/python benchmarks/mutation/summarize.py

clean-venv:
	rm -rf $(VENV)
