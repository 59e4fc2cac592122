"""CPU thread settings of the tools, chosen so that tracking degrades gracefully under load.

The thread trap: torch's OpenMP pool (GNU libgomp in the pip builds) busy-waits at every
barrier by default. With as many threads as cores and one other CPU-bound process, one pool
thread is always descheduled, the others spin waiting for it, and each of the hundreds of
parallel regions of a network pass waits for a scheduler time slice: a tracker that runs at
100 FPS alone falls to 2-3 FPS. pysiam therefore

* asks for passive waiting (``OMP_WAIT_POLICY=PASSIVE``, and ``KMP_BLOCKTIME=0`` for Intel
  OpenMP builds) in the environment before torch loads OpenMP: importing :mod:`pysiam.cli`
  (every tool and console script does, first) calls :func:`set_openmp_environment`; a variable
  the user set is kept;
* uses few threads per process: :func:`recommended_threads` (1 for tiny networks such as
  NanoTrack, ``min(cores, 4)`` for larger ones; ``cores // workers`` when several tracking
  processes share the machine); ``INFERENCE.THREADS`` / ``--threads`` override it;
* runs ONNX Runtime's pool without spinning (:func:`pysiam.deploy.runtime.make_session`).
"""
from __future__ import annotations

import os
from typing import Optional

from pysiam.cli import OPENMP_ENVIRONMENT, set_openmp_environment

from .options import InferenceOptions

__all__ = ["apply_threads", "recommended_threads", "set_openmp_environment", "available_cores",
           "OPENMP_ENVIRONMENT", "TINY_MODEL_PARAMETERS", "MAX_DEFAULT_THREADS"]

#: networks with fewer parameters run on one thread by default (threads cost more than they give)
TINY_MODEL_PARAMETERS = 3_000_000
#: default thread cap of a large network (more threads give little and trap easily)
MAX_DEFAULT_THREADS = 4


def available_cores() -> int:
    """Cores this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def recommended_threads(model=None, workers: int = 1, cores: Optional[int] = None) -> int:
    """Threads per process: 1 for a tiny ``model`` (< :data:`TINY_MODEL_PARAMETERS` parameters),
    else ``min(cores // workers, MAX_DEFAULT_THREADS)``, at least 1 (``workers`` x threads <= cores)."""
    per_worker = max(1, (cores or available_cores()) // max(1, int(workers)))
    if model is not None:
        params = getattr(model, "parameters", None)
        if callable(params) and sum(p.numel() for p in params()) < TINY_MODEL_PARAMETERS:
            return 1
    return min(per_worker, MAX_DEFAULT_THREADS)


def apply_threads(options: InferenceOptions, model=None, workers: int = 1) -> int:
    """Set torch's intra-op threads: ``options.threads`` when > 0, else :func:`recommended_threads`
    for ``model`` when one is given (otherwise torch's own default is left). Returns the count."""
    import torch

    threads = int(options.threads)
    if threads <= 0 and model is not None:
        threads = recommended_threads(model, workers)
    if threads > 0:
        torch.set_num_threads(threads)
    return threads or torch.get_num_threads()
