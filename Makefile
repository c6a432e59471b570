# The two commands of the README:
#   make demo   install CCM into .venv and run `ccm demo` on the embedded store
#   make test   install CCM with its test tools and run ruff, mypy and the whole
#               test suite (which starts a real Neo4j 5.26 from Maven Central)
#   make browser  install Debian's Chromium (apt-get, as root or with sudo) for the web
#               view's browser test; .ci/run does this before `make test`
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/ccm demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

unit: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck unit

CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:
	@[ -x $(CHROMIUM) ] || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }
	@$(CHROMIUM) --version 2>/dev/null | tail -1

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
