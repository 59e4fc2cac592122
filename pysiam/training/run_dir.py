"""The run folder: where a training run keeps its config, environment, checkpoints and logs.

``TRAIN.OUTPUT_DIR`` (default ``./runs/<config name>``) holds ``config.yaml`` (the merged config),
``env.json`` (git commit, versions, command line, world size; one entry per start, so resumes
are visible), ``metrics.jsonl``, ``LOG_DIR`` (TensorBoard) and ``SNAPSHOT_DIR`` (checkpoints).
Relative ``LOG_DIR`` / ``SNAPSHOT_DIR`` are placed inside the run folder.
"""
from __future__ import annotations

import json
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from pysiam.utils.atomic import atomic_write_text

__all__ = ["resolve_run_dir", "inside_run_dir", "write_run_info", "git_commit"]


def resolve_run_dir(cfg, config_name: str = "") -> Path:
    """``TRAIN.OUTPUT_DIR``, or ``./runs/<config name>`` when it is empty."""
    out = str(cfg.TRAIN.OUTPUT_DIR or "")
    return Path(out) if out else Path("runs") / (Path(config_name).stem or "train")


def inside_run_dir(run_dir: Path, path: str) -> Path:
    """An absolute ``path`` as is, a relative one inside ``run_dir``."""
    p = Path(path)
    return p if p.is_absolute() else run_dir / p


def git_commit(path: Optional[Path] = None) -> Optional[str]:
    """``git describe --always --dirty`` of the checkout holding ``path`` (this package by default)."""
    where = Path(path or Path(__file__).resolve().parent)
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=40"], cwd=where,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def _versions() -> dict:
    import cv2
    import numpy
    import torch
    v = {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
         "opencv": cv2.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version()
         if torch.backends.cudnn.is_available() else None,
         "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]}
    try:
        import pysiam
        v["pysiam"] = pysiam.__version__
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    return v


def write_run_info(run_dir: Path, cfg, argv: Optional[Sequence[str]] = None, world_size: int = 1,
                   resumed_from: Optional[str] = None) -> None:
    """Write ``config.yaml`` and add this start to ``env.json``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", cfg.dump())
    env_path = run_dir / "env.json"
    starts = []
    if env_path.is_file():
        try:
            starts = json.loads(env_path.read_text()).get("starts", [])
        except (OSError, ValueError):
            starts = []
    starts.append({
        "time": time.strftime("%Y-%m-%d %H:%M:%S"), "git": git_commit(), "host": socket.gethostname(),
        "argv": list(sys.argv if argv is None else argv), "world_size": world_size,
        "resumed_from": resumed_from, "versions": _versions(),
    })
    atomic_write_text(env_path, json.dumps({"starts": starts}, indent=1))
