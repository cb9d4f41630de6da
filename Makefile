# bess-twin: `make demo` runs the quickstart backtest, `make test` the tests CI runs, `make lint`
# ruff and mypy (also in CI).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The real data sets live beside the checkout; override with BESS_TWIN_DATA=/path/to/data.
BESS_TWIN_DATA ?= $(abspath ../shared/data)
export BESS_TWIN_DATA

.PHONY: install demo test lint docs bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bess-twin backtest scenarios/quickstart.yaml --out runs/quickstart

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check twin actors hardware api dashboards tests bench
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/bess-twin scenario-reference --out docs/scenario-reference.md

bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.hardware
	$(BIN)/python -m bench.exchange
	$(BIN)/python -m bench.ems
	$(BIN)/python -m bench.forecast
	$(BIN)/python -m bench.etrm
	$(BIN)/python -m bench.fleet --fixed-days 91
	$(BIN)/python -m bench.api

clean:
	rm -rf $(VENV) runs .pytest_cache
