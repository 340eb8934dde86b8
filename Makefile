# Two entry points for a fresh machine (python3, pip, node/npm present):
#   make lab   -- set up everything and open the course notebooks in JupyterLab
#   make test  -- set up everything (Python deps, JS build, Debian's chromium) and run all tests
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: lab test setup setup-test chromium js notebooks benchmarks clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	touch $@

# `pip install -e` runs the JS build (npm ci && npm run build in js/) through
# hatch-jupyter-builder, so a clone needs no manual build step.
setup: $(VENV)/.created
	$(PIP) install --quiet -e ".[lab]"

setup-test: $(VENV)/.created
	$(PIP) install --quiet -e ".[test]"

chromium:
	@if [ -x /usr/bin/chromium ]; then echo "chromium present: /usr/bin/chromium"; \
	else (command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && S=sudo || S=; \
	      $$S apt-get update -qq && $$S apt-get install -y -qq chromium); fi

# --allow-root only where JupyterLab would otherwise refuse to start (running as root)
lab: setup
	$(VENV)/bin/jupyter lab notebooks/ $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

test: setup-test chromium
	$(PY) -m pytest -q

js:
	cd js && npm ci && npm run build

# re-sync each notebooks/NN_name.ipynb with its jupytext twin NN_name.py (the newer file of a pair wins)
notebooks: setup-test
	$(VENV)/bin/jupytext --sync notebooks/*.ipynb

benchmarks: setup-test
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) js/node_modules superres_widgets/static build dist *.egg-info
