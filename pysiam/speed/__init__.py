"""The speed benchmark's parts (``tools/benchmark.py``): tracker FPS, batched engine, model latency,
training step and data loader, each measured on generated data so it runs anywhere."""
from .table import PARTS, format_table
from .timing import generated_videos, sync, timed
from .tracking import bench_batched, bench_model, bench_tracker
from .training import bench_data, bench_train, labelled_pair_batch

__all__ = ["PARTS", "format_table", "generated_videos", "sync", "timed", "bench_model", "bench_tracker",
           "bench_batched", "bench_train", "bench_data", "labelled_pair_batch"]
