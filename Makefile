# make run: set-up + the app on a demo workload.  make test: set-up + the whole suite.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON ?= python3

.PHONY: setup run test lint bench stress screenshots clean

$(STAMP): pyproject.toml setup.py $(wildcard timertui/_native/*.c timertui/_native/*.h timertui/_native/build*.py)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]' \
		--config-settings editable_mode=compat
	@# .pyc files even where PYTHONDONTWRITEBYTECODE is set: start-up time counts (restore)
	$(PY) -m compileall -q timertui >/dev/null
	@# Builds take setuptools in pip's isolated build environment; the one venv makes puts
	@# here only adds a .pth hook (distutils-precedence) to every start, ~1 ms of each command
	$(PY) -m pip uninstall -q -y setuptools 2>/dev/null || true
	@touch $@

setup: $(STAMP)

run: setup
	@$(PY) -m timertui --demo

lint: setup
	$(VENV)/bin/ruff check timertui tests bench stress
	$(VENV)/bin/ruff format --check timertui tests bench stress
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy stress
	$(VENV)/bin/lint-imports --no-cache

test: setup lint
	$(PY) -m pytest -q

bench: setup
	$(PY) -m compileall -q timertui >/dev/null
	$(PY) -m bench

stress: setup
	$(PY) -m stress

screenshots: setup
	$(PY) -m timertui.tui.screenshots screenshots
	@# the app served to a real headless Chromium (timertui serve)
	$(PY) -m bench.served_screenshots screenshots

clean:
	rm -rf $(VENV) build *.egg-info timertui/_native/*.so
