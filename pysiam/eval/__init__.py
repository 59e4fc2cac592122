"""Evaluation of tracking and segmentation results: metrics, tables, plots."""
from pysiam.eval.runner import evaluate, find_trackers

__all__ = ["evaluate", "find_trackers"]
