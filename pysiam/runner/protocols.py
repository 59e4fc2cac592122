"""Run one tracker over one video: convenience wrappers around the protocol step generators.

    res = run_ope(tracker, video)            # OPEResult
    res = run_vot(tracker, video, skip=5)    # VOTResult
    res = run_vos(make_tracker, video, threshold=0.3)

The protocols themselves live in :mod:`pysiam.protocols` (this module re-exports their steps).
"""
from __future__ import annotations

from typing import Iterator, Optional

import numpy as np

from pysiam.protocols import (Init, Job, OPEResult, Track, VOSResult, VOTResult, counted, drive, ope_job,
                              run_vos, vot_job, vot_region)
from pysiam.protocols.steps import FrameCallback

__all__ = ["OPEResult", "VOTResult", "VOSResult", "run_ope", "run_vot", "run_vos", "vot_region",
           "FrameCallback", "Init", "Track", "Job", "ope_job", "vot_job", "drive"]


def run_ope(tracker, video, frames: Optional[Iterator[np.ndarray]] = None,
            on_frame: FrameCallback = None) -> OPEResult:
    """One pass from the first frame's ground truth (see :func:`pysiam.protocols.ope.one_pass`)."""
    frames = video.frames() if frames is None else frames
    return drive(ope_job(video, counted(frames, on_frame)), tracker)


def run_vot(tracker, video, skip: int = 5, use_polygon: bool = False,
            frames: Optional[Iterator[np.ndarray]] = None, on_frame: FrameCallback = None) -> VOTResult:
    """VOT supervised (reset) protocol (see :func:`pysiam.protocols.vot.vot_job`)."""
    frames = video.frames() if frames is None else frames
    return drive(vot_job(video, counted(frames, on_frame), skip, use_polygon), tracker)
