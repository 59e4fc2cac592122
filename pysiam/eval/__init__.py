"""Evaluation of tracking and segmentation results: metrics, tables, plots.

``evaluate`` / ``find_trackers`` (:mod:`pysiam.eval.runner`) are loaded on first use: the metric
modules here are imported by the protocol objects, which the runner itself imports.
"""
from typing import Any

__all__ = ["evaluate", "find_trackers"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pysiam.eval import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'pysiam.eval' has no attribute {name!r}")
