"""Shared test fixtures: deterministic seeds, the optional ../shared data folder."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PYSIAM_SHARED", REPO.parent / "shared"))

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip: real sequences are not part of a fresh clone."""
    d = SHARED / "data"
    if not d.is_dir():
        pytest.skip(f"real data folder {d} not present (set PYSIAM_SHARED to the shared folder)")
    return d


@pytest.fixture
def shared_spec() -> Path:
    """../shared/spec, or skip."""
    d = SHARED / "spec"
    if not d.is_dir():
        pytest.skip(f"spec folder {d} not present (set PYSIAM_SHARED to the shared folder)")
    return d


@pytest.fixture
def one_thread():
    """One intra-op thread: per-frame tensors are tiny, extra threads only add overhead."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
