# The two commands the README starts with: `make run` and `make test`.
# Both create .venv and install resviz into it the first time (about 2 minutes).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.resviz-installed

.PHONY: run test lint venv bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Launch the app on its embedded default data (the digits set).
run: $(STAMP)
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ -z "$$QT_QPA_PLATFORM" ] && [ "$$(uname)" = Linux ]; then \
		echo "resviz: no display here. Run it on a virtual screen:  xvfb-run -a make run"; \
		echo "        or work headless:  $(VENV)/bin/resviz --help   (train, report, ...)"; \
		exit 1; \
	fi
	$(VENV)/bin/resviz

# The whole test suite (after the linters); Qt runs offscreen.
test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

# ruff (pyflakes, pycodestyle, import order, pyupgrade, bugbear; the formatter) and the
# import contracts (core never imports Qt; cli > gui > core). `ruff format .` fixes layout.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	@for b in benchmarks/[a-z]*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) build dist *.egg-info

.PHONY: wheel bundle

# A wheel and an sdist in dist/, as `pip install` and PyPI take them.
wheel: $(STAMP)
	$(PY) -m build --outdir dist .

# A one-folder app in dist/resviz/ (PyInstaller), checked by running its `resviz doctor`.
# It bundles this venv's torch: a CUDA build makes it several GB; packaging/README.md says
# how to build a CPU-only bundle instead (make bundle VENV=.venv-cpu).
bundle: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,packaging]'
	$(VENV)/bin/pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/resviz.spec
	QT_QPA_PLATFORM=offscreen dist/resviz/resviz doctor
