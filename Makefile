# The two commands the README starts with: `make run` and `make test`.
# Both create .venv and install resviz into it the first time (about 2 minutes).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.resviz-installed

.PHONY: run test venv bench clean

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

# The whole test suite; Qt runs offscreen.
test: $(STAMP)
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) build dist *.egg-info
