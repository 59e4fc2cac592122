"""Evaluate one hyper-parameter setting: run the tracker over the tuning videos, score in memory.

A :class:`TrialEvaluator` lives in one process and holds the model (loaded once), the frame and
template caches and the ground-truth masks (DAVIS); :meth:`TrialEvaluator.run` takes a
:class:`pysiam.tune.space.Trial` and returns the record stored in the trial table.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from pysiam.config import merge_overrides
from pysiam.tune.caching import CachedVideo, FrameCache, wrap_model
from pysiam.protocols import RunOptions, ScoreOptions, Where, get_protocol
from pysiam.tune.scoring import scalars
from pysiam.tune.space import Trial

__all__ = ["EvalSetup", "TrialEvaluator", "trial_config", "trial_slug"]

logger = logging.getLogger("pysiam.tune")

_SHORT = {"TRACK.PENALTY_K": "pk", "TRACK.WINDOW_INFLUENCE": "wi", "TRACK.LR": "lr",
          "TRACK.MASK_THERSHOLD": "mt", "TRACK.INSTANCE_SIZE": "r"}


@dataclass
class EvalSetup:
    """What every trial shares; picklable, so that worker processes can be started from it.

    cfg: the base config (file + command-line overrides); dataset: the tuning videos only;
    model_factory: a picklable callable returning the model (called once per process).
    config_ref / opts / snapshot / validation describe the run for the reports.
    """

    cfg: Any
    dataset: Any
    model_factory: Callable[[], Any]
    metric: str
    skip: int = 5
    eao_window: str = "pysot"
    save_results: Optional[str] = None
    frame_cache_mb: float = 512.0
    template_cache: int = 256
    config_ref: str = ""
    opts: Sequence[str] = field(default_factory=list)
    snapshot: str = ""
    validation: str = ""


def trial_config(cfg, params: Dict[str, Any]):
    """A copy of ``cfg`` with the trial's values (checked and typed like command-line overrides)."""
    out = cfg.clone()
    if out.is_frozen():
        out.defrost()
    opts: List[str] = []
    for k, v in params.items():
        opts += [k, repr(v)]
    return merge_overrides(out, opts)


def trial_slug(params: Dict[str, Any]) -> str:
    """A folder name for a setting, e.g. ``pk0.05_wi0.42_lr0.38``."""
    parts = []
    for k in params:
        tag = _SHORT.get(k, k.rsplit(".", 1)[-1].lower())
        parts.append(f"{tag}{params[k]!r}")
    return "_".join(parts).replace("/", "-")


class TrialEvaluator:
    """Runs trials in this process with one model instance (see the module docstring)."""

    def __init__(self, setup: EvalSetup, device=None, model=None):
        from pysiam.utils.device import resolve_device

        self.setup = setup
        self.protocol = get_protocol(setup.dataset.protocol)
        self.device = resolve_device(device, setup.cfg)
        base = model if model is not None else setup.model_factory()
        if callable(getattr(base, "to", None)):
            base.to(self.device)
        if callable(getattr(base, "eval", None)):
            base.eval()
        self.model = wrap_model(base, setup.template_cache)
        self.frames = FrameCache(setup.frame_cache_mb)
        self._score_cache: Dict[str, Any] = {}
        self.runs = 0

    def run(self, trial: Trial) -> Dict[str, Any]:
        """Evaluate ``trial`` on every tuning video; returns its table record."""
        import torch

        from pysiam.tracker import build_tracker

        setup, protocol = self.setup, self.protocol
        cfg = trial_config(setup.cfg, trial.params)
        if protocol.needs_mask and not cfg.MASK.MASK:
            raise ValueError(f"{setup.dataset.name} is a segmentation benchmark: the config needs "
                             f"MASK.MASK True (a SiamMask model)")
        opts = RunOptions.from_config(cfg, skip=setup.skip)
        per_video: Dict[str, Any] = {}
        frames = 0
        tic = time.perf_counter()
        with torch.inference_mode():
            for video in setup.dataset:
                res = protocol.run(lambda: build_tracker(cfg, self.model, device=self.device),
                                   CachedVideo(video, self.frames), opts)
                per_video[video.name] = protocol.score(video, protocol.scorable(res), self._score_cache)
                frames += len(res.times)
                if setup.save_results:
                    protocol.write(res, video, Where(setup.save_results, setup.dataset.name,
                                                     trial_slug(trial.params)))
        seconds = time.perf_counter() - tic
        summary = protocol.summarize(per_video, setup.dataset, ScoreOptions(setup.eao_window))
        numbers = scalars(summary)
        if setup.metric not in numbers:
            raise ValueError(f"metric {setup.metric!r} was not computed for {setup.dataset.name} "
                             f"(got {', '.join(sorted(numbers))})")
        self.runs += 1
        return {"trial": trial.name, "key": trial.key, "params": dict(trial.params),
                "metric": setup.metric, "score": numbers[setup.metric], "metrics": numbers,
                "per_video": summary.get(protocol.per_video_key, {}), "frames": frames,
                "seconds": round(seconds, 3), "fps": round(frames / seconds, 2) if seconds > 0 else None,
                "device": str(self.device), "host": socket.gethostname(), "pid": os.getpid(),
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
