"""Tracking and segmentation datasets: readers of every benchmark layout, videos, synthetic test sets.

    from pysiam.datasets import build_dataset
    ds = build_dataset("VOT2018", "/data/VOT2018")
    for video in ds:
        for frame in video.frames(): ...
"""
from pysiam.datasets.parsing import BenchmarkFormatError
from pysiam.datasets.registry import DATASETS, EAO_INTERVALS, build_dataset, get_spec
from pysiam.datasets.video import Dataset, Video

__all__ = ["build_dataset", "get_spec", "DATASETS", "EAO_INTERVALS", "Dataset", "Video",
           "BenchmarkFormatError"]
