"""ONNX Runtime sessions: providers and thread settings."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

__all__ = ["make_session", "available_providers"]


def available_providers(prefer_cuda: bool = True) -> List[str]:
    """CUDA (when this onnxruntime build has it and ``prefer_cuda``), then CPU."""
    import onnxruntime as ort

    have = ort.get_available_providers()
    order = (["CUDAExecutionProvider"] if prefer_cuda else []) + ["CPUExecutionProvider"]
    return [p for p in order if p in have] or ["CPUExecutionProvider"]


def make_session(path: Path, threads: int = 0, providers: Optional[Sequence[str]] = None,
                 spinning: bool = False):
    """An ``onnxruntime.InferenceSession`` on ``path``.

    ``threads`` > 0 sets the intra-op threads (0: onnxruntime's default, one per core);
    ``spinning=False`` makes idle pool threads sleep instead of busy-waiting (see
    :mod:`pysiam.inference.threads`: the thread trap); one inter-op thread, all graph optimisations.
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.inter_op_num_threads = 1
    if threads > 0:
        so.intra_op_num_threads = int(threads)
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=list(providers or available_providers()))
