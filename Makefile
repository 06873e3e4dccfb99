# One-command set-up: `make demo` and `make test` create .venv and install everything.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

LABEXT := seldon_jupyter/labextension/package.json

.PHONY: demo test test-fast lint bench clean browser labext

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	SELDON_JUPYTER_HOME=$${SELDON_JUPYTER_HOME:-$(CURDIR)/.seldon-jupyter} $(PY) -m seldon_jupyter.demo

# The JupyterLab extension: built with the machine's Node/npm into seldon_jupyter/labextension
# (what the wheel ships), linked into the venv, and its server extension enabled.
$(LABEXT): $(STAMP) labextension/package.json labextension/package-lock.json \
		$(wildcard labextension/src/*.ts*) $(wildcard labextension/style/*) \
		$(wildcard labextension/schema/*)
	cd labextension && npm ci --no-audit --no-fund --loglevel=error && \
		PATH=$(CURDIR)/$(VENV)/bin:$$PATH npm run build:prod
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/jupyter labextension develop --overwrite .
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/jupyter server extension enable --sys-prefix \
		seldon_jupyter
	touch $(LABEXT)

labext: $(LABEXT)

lint: $(STAMP) $(LABEXT)
	$(PY) -m ruff check .
	$(PY) -m mypy
	cd labextension && npx --no-install eslint src && npx --no-install tsc --noEmit

# The browser tests drive Debian's chromium (no browser downloads).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: lint browser labext
	$(PY) -m pytest

# The fast layer only (FakeBackend and pure functions; no processes): seconds.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" -q

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	-SELDON_JUPYTER_HOME=$(CURDIR)/.seldon-jupyter $(VENV)/bin/seldon-jupyter local down
	rm -rf $(VENV) .seldon-jupyter .pytest_cache .ruff_cache labextension/node_modules \
		labextension/lib seldon_jupyter/labextension
