# Entry points for a fresh machine (python3 >= 3.10 with venv, pip, node/npm, make):
#   make lab   -- set up everything and open the course notebooks in JupyterLab
#   make test  -- set up everything (Python deps, JS build, Debian's chromium) and run all tests
#   make docs  -- build the documentation site offline into docs/_build/html
# Logs of the quiet steps go to build/logs/ (each step prints its log's path).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
LOGS   := build/logs
# pytest options: the 15 slowest tests at the end of each of the two runs
PYTEST_ARGS ?= --durations=15
# processes of the first, parallel pytest run (pytest-xdist); 0 runs it in this process
TEST_WORKERS ?= 2
# where tests/_venv_cache.py and docs/conf.py keep what a rerun can reuse
TEST_CACHE := $${XDG_CACHE_HOME:-$$HOME/.cache}/superres_widgets

.PHONY: lab test docs setup setup-test setup-docs preflight chromium js notebooks benchmarks clean

$(LOGS):
	@mkdir -p $(LOGS)

$(VENV)/.created: | $(LOGS)
	@echo "setup: creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip > $(LOGS)/pip-venv.log 2>&1 || { tail -20 $(LOGS)/pip-venv.log; exit 1; }
	@touch $@

# `pip install -e` runs the JS build (npm ci && npm run build in js/) through the
# build hook in hatch_build.py, so a clone needs no manual build step.
setup: $(VENV)/.created
	@echo "setup: pip install -e '.[lab]' (+ npm ci/build of the front-ends; log: $(LOGS)/pip-lab.log)"
	@$(PIP) install -e ".[lab]" > $(LOGS)/pip-lab.log 2>&1 || { tail -30 $(LOGS)/pip-lab.log; exit 1; }

setup-test: $(VENV)/.created
	@echo "setup: pip install -e '.[test]' (+ npm ci/build of the front-ends; log: $(LOGS)/pip-test.log)"
	@$(PIP) install -e ".[test]" > $(LOGS)/pip-test.log 2>&1 || { tail -30 $(LOGS)/pip-test.log; exit 1; }

setup-docs: $(VENV)/.created
	@echo "setup: pip install -e '.[docs]' (log: $(LOGS)/pip-docs.log)"
	@$(PIP) install -e ".[docs]" > $(LOGS)/pip-docs.log 2>&1 || { tail -30 $(LOGS)/pip-docs.log; exit 1; }

# Says up front what `make test` will do, and whether it will need sudo (only to install
# Debian's chromium when /usr/bin/chromium is missing and you are not root).
preflight:
	@echo "make test: 1) Python deps into $(VENV) and the JS build  2) chromium for the browser tests  3) pytest"
	@if [ -x /usr/bin/chromium ]; then echo "make test: /usr/bin/chromium is present: no apt-get, no sudo"; \
	elif [ "$$(id -u)" = 0 ]; then echo "make test: will run apt-get install --no-install-recommends chromium fonts-liberation (as root)"; \
	elif command -v sudo >/dev/null; then echo "make test: /usr/bin/chromium is missing: step 2 runs 'sudo apt-get install --no-install-recommends chromium fonts-liberation' -- sudo may ask for your password"; \
	else echo "make test: /usr/bin/chromium is missing, you are not root and there is no sudo: ask an administrator to run 'apt-get install --no-install-recommends chromium fonts-liberation'"; exit 1; fi

# Debian's chromium (Playwright cannot download a browser here); only what it needs
# (--no-install-recommends) plus the Liberation fonts the screenshots are judged in.
chromium: | $(LOGS)
	@if [ -x /usr/bin/chromium ]; then echo "chromium: /usr/bin/chromium present"; \
	else S=; [ "$$(id -u)" = 0 ] || S=sudo; \
	  echo "chromium: $$S apt-get install --no-install-recommends chromium fonts-liberation (about 1-2 min; log: $(LOGS)/apt-chromium.log)"; \
	  ( $$S apt-get update && $$S env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	      chromium fonts-liberation ) > $(LOGS)/apt-chromium.log 2>&1 \
	  || { echo "chromium: apt-get failed; the end of $(LOGS)/apt-chromium.log:"; tail -20 $(LOGS)/apt-chromium.log; exit 1; }; \
	  echo "chromium: installed $$(/usr/bin/chromium --version 2>/dev/null)"; fi

# --allow-root only where JupyterLab would otherwise refuse to start (running as root)
lab: setup
	$(VENV)/bin/jupyter lab notebooks/ $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# Two pytest runs, then one verdict (the second runs even if the first failed):
#  1/2 everything that times nothing, on $(TEST_WORKERS) processes (pytest-xdist; a test file stays on one
#      process); a line per test file when its last test is done
#  2/2 the real-browser tests (tests/ui) and the tests marked `timing`, one at a time on a machine
#      the first run no longer loads; pytest's own per-file progress (file name, a dot per test, percentage)
test: preflight setup-test chromium
	@echo "pytest: the Binder and wheel test environments and the docs' notebook outputs are kept in $(TEST_CACHE) (delete it for a cold run)"
	@echo "pytest 1/2: unit tests, notebooks, packaging, docs -- on $(TEST_WORKERS) processes"
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not ui and not timing" $(PYTEST_ARGS); one=$$?; \
	echo "pytest 2/2: real-browser tests (tests/ui) and latency tests, one at a time; screenshots in test-artifacts/"; \
	$(PY) -m pytest -m "ui or timing" $(PYTEST_ARGS); two=$$?; \
	if [ $$one -ne 0 ] || [ $$two -ne 0 ]; then echo "make test: FAILED (pytest 1/2 exit $$one, 2/2 exit $$two)"; exit 1; fi

# The documentation site, offline, warnings are errors; notebooks run once and are cached
# (~/.cache/superres_widgets/docs-jupyter-cache) until their code changes.
docs: setup-docs
	$(VENV)/bin/sphinx-build -b html -j auto -W --keep-going -d docs/_build/doctrees docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

js:
	cd js && npm ci && npm run build

# re-sync each notebooks/NN_name.ipynb with its jupytext twin NN_name.py (the newer file of a pair wins)
notebooks: setup-test
	$(VENV)/bin/jupytext --sync notebooks/*.ipynb

benchmarks: setup-test
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) js/node_modules superres_widgets/static build dist *.egg-info docs/_build
