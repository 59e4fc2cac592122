# Set-up and the two commands of README.md.
PY ?= python3
PYTEST_ARGS ?= -q

.PHONY: install test quickstart
install:
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test]"

test: install
	$(PY) -m pytest $(PYTEST_ARGS) tests

quickstart: install
	$(PY) tools/quickstart.py
