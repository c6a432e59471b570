# The two commands of the README:
#   make demo   install CCM into .venv and run `ccm demo` on the embedded store
#   make test   install CCM with its test tools (and Debian's Chromium for the web
#               view's browser test, when root or passwordless sudo allows), then run
#               ruff, mypy, the docstrings' examples and the whole test suite (which starts a real Neo4j 5.26
#               from Maven Central). .ci/run runs exactly this.
# Both install from the locked dependency set in requirements/ (pinned versions with
# hashes); `make lock` refreshes it from pyproject.toml with uv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit doctest browser clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The lock is installed first (every package pinned and hash-checked, setuptools
# included), then CCM itself with no dependency resolution and no build isolation,
# so nothing unpinned is downloaded.
$(VENV)/.installed: requirements/runtime.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements/runtime.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: requirements/test.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements/test.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/ccm demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

unit: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# the examples in the packages' docstrings run as written
doctest: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -p no:cacheprovider --doctest-modules ccm graph_schema ingest

test: browser lint typecheck doctest unit

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

# Refresh the lock from pyproject.toml (and requirements/build.in), for every platform
# and Python >= 3.11; the runtime lock is constrained to the test lock's versions.
UV_VERSION ?= 0.13.10
UV := $(VENV)/uv/bin/uv
$(UV):
	$(PYTHON) -m venv $(VENV)/uv && $(VENV)/uv/bin/pip install -q uv==$(UV_VERSION)

lock: export UV_CUSTOM_COMPILE_COMMAND = make lock
lock: $(UV)
	$(UV) pip compile -q pyproject.toml requirements/build.in --extra test --generate-hashes \
		--python-version 3.11 --universal --upgrade -o requirements/test.lock
	$(UV) pip compile -q pyproject.toml requirements/build.in --generate-hashes \
		--python-version 3.11 --universal -c requirements/test.lock -o requirements/runtime.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
