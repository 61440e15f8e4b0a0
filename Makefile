# Two commands do all the set-up on a fresh clone:
#   make demo   creates .venv, installs agentsim, runs the donor game offline (scripted agents)
#   make test   creates .venv, installs the dev extras, runs lint, type checks and the tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SEED   ?= 0
OUT    ?= runs

.PHONY: demo demo-local test test-slow lint typecheck pytest install install-dev local-model bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,stats,browser,plot,ray,rl]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/python scenarios/donor_game.py --seed $(SEED) --out $(OUT)

lint: install-dev
	$(BIN)/ruff check agentsim analysis scenarios tests bench examples
	$(BIN)/ruff format --check agentsim analysis scenarios tests bench examples
	$(BIN)/lint-imports  # DESIGN.md's layers: the contracts in pyproject.toml

typecheck: install-dev
	$(BIN)/mypy

pytest: install-dev
	$(BIN)/pytest -q
	$(BIN)/pytest -q --doctest-modules agentsim analysis  # the docstring examples

test: lint typecheck pytest

# The long kill/resume tests (run by .ci/run after `make test`).
test-slow: install-dev
	$(BIN)/pytest -q -m slow

# The real offline model (SmolLM2-135M through llama.cpp; compiles for ~5 minutes).
local-model: install
	scripts/install_local_model.sh $(VENV)

# Real LLM agents with no API key: SmolLM2-135M on the CPU (weak; for watching, not for claims).
demo-local: install local-model
	$(BIN)/python scenarios/donor_game.py --seed $(SEED) --out $(OUT) --model local/smollm2 \
		--set agents=4 --set rounds=4 --set generations=2

# Every benchmark (bench/run_all.py); rewrites bench/RESULTS.md. Takes tens of minutes.
bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench,plot,ray,rl]'
	$(BIN)/python bench/run_all.py

# The same benchmarks with short timings (a smoke run); prints the report, RESULTS.md untouched.
bench-quick: install
	$(BIN)/python -m pip install --quiet -e '.[bench,plot,ray,rl]'
	$(BIN)/python bench/run_all.py --quick

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
