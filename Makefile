# One-command set-up: `make demo` and `make test` create .venv and install everything.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	SELDON_JUPYTER_HOME=$${SELDON_JUPYTER_HOME:-$(CURDIR)/.seldon-jupyter} $(PY) -m seldon_jupyter.demo

lint: $(STAMP)
	$(PY) -m ruff check .

# The browser tests drive Debian's chromium (no browser downloads).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: lint browser
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	-SELDON_JUPYTER_HOME=$(CURDIR)/.seldon-jupyter $(VENV)/bin/seldon-jupyter local down
	rm -rf $(VENV) .seldon-jupyter .pytest_cache .ruff_cache
