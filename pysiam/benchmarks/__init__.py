"""Tracking and segmentation benchmarks: dataset readers, result files, synthetic test sets.

    from pysiam.benchmarks import build_dataset
    ds = build_dataset("VOT2018", "/data/VOT2018")
    for video in ds:
        for frame in video.frames(): ...
"""
from pysiam.benchmarks.parsing import BenchmarkFormatError
from pysiam.benchmarks.registry import DATASETS, EAO_INTERVALS, build_dataset, get_spec
from pysiam.benchmarks.video import Dataset, Video

__all__ = ["build_dataset", "get_spec", "DATASETS", "EAO_INTERVALS", "Dataset", "Video",
           "BenchmarkFormatError"]
