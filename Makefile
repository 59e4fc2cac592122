# Set-up and the two commands of README.md.
PY ?= python3
PYTEST_ARGS ?= -q

.PHONY: install test quickstart gpu-check vot-env
install: vot-env
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test]"

test: install
	$(PY) -m pytest $(PYTEST_ARGS) tests

quickstart: install
	$(PY) tools/quickstart.py

# The prepared device check (docs/GPU_CHECK.md); no install step: the device has no network.
GPU_CHECK_ARGS ?=
gpu-check:
	$(PY) tools/gpu_check.py --output $${GPU_CHECK_OUT:-gpu_check_out} $(GPU_CHECK_ARGS)

# The VOT toolkit in its own venv (its pins must not touch pysiam's environment): vot-toolkit 0.7.4
# (0.8 / 0.9 cannot run multistart or supervised experiments with a TraX tracker) and attributee
# 0.1.9 (0.1.10 breaks `import vot` on Python 3.11). The warm-up compiles the toolkit's numba
# region code once (cached) so that tests do not pay for it. pysiam's side needs vot-trax.
VOT_ENV ?= .venv-vot
VOT_PIP ?= vot-toolkit==0.7.4 attributee==0.1.9
vot-env: $(VOT_ENV)/.pysiam-ok
	@$(PY) -c "import trax" 2>/dev/null || $(PY) -m pip install -q "vot-trax>=4.0.1"

$(VOT_ENV)/.pysiam-ok:
	$(PY) -m venv $(VOT_ENV)
	$(VOT_ENV)/bin/python -m pip install -q $(VOT_PIP)
	$(VOT_ENV)/bin/python -c "import numpy as n; from vot.region import Rectangle as R, Polygon as P, Mask as M, calculate_overlap as c; from vot.region.io import parse_region as p; s = (M(n.ones((3, 3), n.uint8), (1, 1)), R(0, 0, 4, 4), P([(0, 0), (4, 0), (4, 4)])); [c(a, b, (9, 9)) for a in s for b in s]; p(str(s[0]))"
	touch $@
