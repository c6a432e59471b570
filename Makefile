# The two commands of the README:
#   make demo   install CCM into .venv and run `ccm demo` on the embedded store
#   make test   install CCM with its test tools (and Debian's Chromium for the web
#               view's browser test, when root or passwordless sudo allows), then run
#               ruff, mypy and the whole test suite (which starts a real Neo4j 5.26
#               from Maven Central). .ci/run runs exactly this.
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

test: browser lint typecheck unit

CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:
	@if [ -x $(CHROMIUM) ]; then $(CHROMIUM) --version 2>/dev/null | tail -1; \
	elif [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium && \
		$(CHROMIUM) --version | tail -1; \
	elif [ "$$CI" = true ]; then \
		echo "CI=true and Chromium is missing: cannot install it without root"; exit 1; \
	else \
		echo "Chromium is missing and cannot be installed without root: the browser test" \
		     "will be skipped (sudo apt-get install chromium to run it)"; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
