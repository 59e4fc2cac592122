"""Starting a run safely: a used run folder is never mixed into, and a resume continues only the
same run.

* :func:`prepare_run_dir`: removes the temporary files of killed writers; refuses a run folder
  that already holds a run (``config.yaml``, ``env.json``, ``metrics.jsonl`` or checkpoints) unless
  the run is resumed or ``overwrite`` is set, which deletes that run's files first;
* :func:`find_resume_checkpoint`: the checkpoint to continue from, read once; with ``--resume`` a
  newest checkpoint that cannot be read is skipped with a warning naming it, for the one before;
* :func:`check_same_run`: the checkpoint's config must match the current one in every model and
  training key (:data:`COMPARED_SECTIONS` less :data:`IGNORED_KEYS`), else the differing keys are named.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from pysiam.models.checkpoint import CheckpointError, read_state_dict
from pysiam.utils.atomic import remove_stale_temporaries

from .checkpoint import checkpoints_newest_first

__all__ = ["RunDirError", "ResumePoint", "prepare_run_dir", "find_resume_checkpoint", "check_same_run",
           "config_differences", "COMPARED_SECTIONS", "IGNORED_KEYS"]

logger = logging.getLogger(__name__)

_RUN_FILES = ("config.yaml", "env.json", "metrics.jsonl")

#: the config sections a resumed run must share with its checkpoint
COMPARED_SECTIONS = ("BACKBONE", "ADJUST", "RPN", "BAN", "MASK", "REFINE", "ANCHOR", "POINT", "TRAIN",
                     "DATASET")
#: keys (or leaf names, for the per-source DATASET entries) that may change between starts: where
#: files are, how often to log, how many workers, and what only the first start reads
IGNORED_KEYS = frozenset({
    "BACKBONE.PRETRAINED", "TRAIN.OUTPUT_DIR", "TRAIN.RESUME", "TRAIN.PRETRAINED", "TRAIN.START_EPOCH",
    "TRAIN.NUM_WORKERS", "TRAIN.PRINT_FREQ", "TRAIN.IMAGE_FREQ", "TRAIN.LOG_DIR", "TRAIN.SNAPSHOT_DIR",
    "TRAIN.LOG_GRADS", "TRAIN.DIST_BACKEND", "ROOT", "ANNO", "WORKERS",
})


class RunDirError(ValueError):
    """A run folder that cannot be used as asked; the message says what to pass instead."""


@dataclass
class ResumePoint:
    """A checkpoint read once: its path, model state and other entries."""

    path: Path
    state: Dict[str, Any]
    extra: Dict[str, Any]


def _run_files(run_dir: Path, snapshot_dir: Path) -> List[Path]:
    return [run_dir / n for n in _RUN_FILES if (run_dir / n).is_file()] + checkpoints_newest_first(snapshot_dir)


def prepare_run_dir(run_dir: Path, snapshot_dir: Path, log_dir: Path, resume: bool, overwrite: bool,
                    main: bool = True) -> None:
    """Clean stale temporaries, then refuse (or with ``overwrite`` clear) a folder holding a run.

    Only the ``main`` process changes files; the others only refuse, so that every process of a
    distributed run stops on a used folder."""
    for folder in (run_dir, snapshot_dir, log_dir) if main else ():
        for p in remove_stale_temporaries(folder):
            logger.warning("removed %s, left by a killed write", p)
    if resume or (overwrite and not main):
        return
    found = _run_files(run_dir, snapshot_dir)
    if not found:
        return
    if not overwrite:
        names = ", ".join(p.name for p in found[:4]) + (", ..." if len(found) > 4 else "")
        raise RunDirError(f"{run_dir} already holds a training run ({names}): pass --resume to continue it, "
                          f"--overwrite to replace it, or another TRAIN.OUTPUT_DIR")
    inside = log_dir.resolve().is_relative_to(run_dir.resolve())   # never another run's shared log folder
    events = list(log_dir.glob("events.out.tfevents.*")) if inside and log_dir.is_dir() else []
    for p in found + events:
        p.unlink()
    logger.warning("--overwrite: removed the previous run in %s (%d files)", run_dir, len(found) + len(events))


def _read_training_checkpoint(path: Path) -> ResumePoint:
    state, extra = read_state_dict(path, allow_pickle=False)
    if "optimizer" not in extra or "epoch" not in extra:
        raise CheckpointError(f"{path}: no optimizer state or epoch: not a training checkpoint (use "
                              f"TRAIN.PRETRAINED to start from weights only)")
    return ResumePoint(path, state, extra)


def find_resume_checkpoint(snapshot_dir: Path, explicit: str, resume: bool) -> Optional[ResumePoint]:
    """``TRAIN.RESUME`` (``explicit``) if set, else with ``resume`` the newest readable checkpoint."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"TRAIN.RESUME: checkpoint not found: {path}")
        return _read_training_checkpoint(path)
    if not resume:
        return None
    candidates = checkpoints_newest_first(snapshot_dir)
    if not candidates:
        logger.warning("--resume: no checkpoint in %s, starting from scratch", snapshot_dir)
    for i, path in enumerate(candidates):
        try:
            return _read_training_checkpoint(path)
        except Exception as e:   # noqa: BLE001 - any unreadable file: fall back to the one before
            after = f"falling back to {candidates[i + 1].name}" if i + 1 < len(candidates) else "no older one"
            logger.warning("--resume: skipping unreadable checkpoint %s (%s: %s); %s", path,
                           type(e).__name__, str(e).splitlines()[0] if str(e) else "", after)
    if candidates:
        tried = ", ".join(p.name for p in candidates)
        raise CheckpointError(f"--resume: no readable checkpoint in {snapshot_dir} (tried {tried}): "
                              f"pass --overwrite to start over")
    return None


def _flatten(node: Any, prefix: str = "") -> Dict[str, Any]:
    if isinstance(node, dict):
        out: Dict[str, Any] = {}
        for k, v in node.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: list(node) if isinstance(node, tuple) else node}


def _compared(key: str) -> bool:
    section, leaf = key.split(".", 1)[0], key.rsplit(".", 1)[-1]
    return section in COMPARED_SECTIONS and key not in IGNORED_KEYS and leaf not in IGNORED_KEYS


def config_differences(saved_yaml: str, current_yaml: str) -> List[str]:
    """``KEY: saved -> current`` for every compared key whose values differ (keys on both sides)."""
    saved = _flatten(yaml.safe_load(saved_yaml) or {})
    current = _flatten(yaml.safe_load(current_yaml) or {})
    return [f"{k}: {saved[k]!r} -> {current[k]!r}" for k in sorted(saved.keys() & current.keys())
            if _compared(k) and saved[k] != current[k]]


def check_same_run(point: ResumePoint, cfg) -> None:
    """Refuse to resume from a checkpoint of another model or training recipe."""
    saved = point.extra.get("cfg")
    if not saved:
        logger.warning("%s holds no config: resuming without checking that it matches", point.path)
        return
    diff = config_differences(str(saved), cfg.dump())
    if diff:
        shown = "; ".join(diff[:6]) + (f"; and {len(diff) - 6} more" if len(diff) > 6 else "")
        raise RunDirError(f"--resume: {point.path} was trained with another config ({shown}): resume "
                          f"with the run's own config.yaml, or start a new run (--overwrite / another "
                          f"TRAIN.OUTPUT_DIR)")
