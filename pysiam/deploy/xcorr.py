"""Export-friendly cross-correlations: the same results as :mod:`pysiam.models.xcorr` with a
convolution ``groups`` count that does not depend on the batch size.

pysiam's correlations fold the batch into the channels (``groups = batch * channels``), which an
ONNX graph cannot keep dynamic: ``groups`` is a constant attribute of ONNX's ``Conv``. Here every
sample is correlated with every template of the batch (``groups = channels``) and the diagonal
(sample b with template b) is kept: identical for batch 1, ``batch`` times the correlation's work
for larger batches (the correlation is a small part of a tracker's pass).

:func:`export_friendly` swaps the functions in every loaded pysiam module for the time of an
export; :data:`EXPORT_XCORR` is the table of (original, replacement) pairs (add new correlation
helpers there).
"""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Dict, Iterator, List, Tuple

import torch
import torch.nn.functional as F

from pysiam.models import xcorr as _xcorr

__all__ = ["xcorr_depthwise_export", "xcorr_fast_export", "xcorr_depthwise_padded_export",
           "EXPORT_XCORR", "export_friendly"]


def _diagonal(out: torch.Tensor, b: int) -> torch.Tensor:
    """(B, K, B, H, W) -> (B, K, H, W): entry [b, :, b] (sample b against its own template)."""
    eye = torch.eye(b, dtype=out.dtype, device=out.device).view(b, 1, b, 1, 1)
    return (out * eye).sum(dim=2)


def xcorr_depthwise_padded_export(x: torch.Tensor, kernel: torch.Tensor, padding: int = 1) -> torch.Tensor:
    """Depth-wise correlation of ``x`` (B, C, H, W) with ``kernel`` (B, C, h, w), zero ``padding``."""
    b, c = x.shape[0], int(x.shape[1])  # channels and kernel size static: constants of the graph
    weight = kernel.transpose(0, 1).reshape(-1, 1, int(kernel.shape[2]), int(kernel.shape[3]))  # (C*B, 1, h, w)
    out = F.conv2d(x, weight, groups=c, padding=padding)  # channel c*B + j: x[:, c] * kernel[j, c]
    return _diagonal(out.view(b, c, -1, out.shape[2], out.shape[3]), b)


def xcorr_depthwise_export(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """:func:`pysiam.models.xcorr.xcorr_depthwise` with ``groups = channels``."""
    return xcorr_depthwise_padded_export(search, kernel, padding=0)


def xcorr_fast_export(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """:func:`pysiam.models.xcorr.xcorr_fast` with ``groups = 1``."""
    b, c = search.shape[0], int(search.shape[1])
    weight = kernel.reshape(-1, c, int(kernel.shape[2]), int(kernel.shape[3]))  # (B*K, C, h, w)
    out = F.conv2d(search, weight)                                     # (B, B*K, H', W')
    out = out.view(b, b, -1, out.shape[2], out.shape[3]).transpose(1, 2)  # (B, K, B, H', W')
    return _diagonal(out, b)


def _table() -> List[Tuple[Callable, Callable]]:
    pairs = [(_xcorr.xcorr_depthwise, xcorr_depthwise_export), (_xcorr.xcorr_fast, xcorr_fast_export)]
    try:
        from pysiam.models.head import ban_v3
    except ImportError:  # pragma: no cover - NanoTrack heads not installed
        return pairs
    padded = getattr(ban_v3, "xcorr_depthwise_padded", None)
    if padded is not None:
        pairs.append((padded, xcorr_depthwise_padded_export))
    return pairs


#: (pysiam correlation, export-friendly replacement) pairs swapped in by :func:`export_friendly`
EXPORT_XCORR: List[Tuple[Callable, Callable]] = _table()


@contextlib.contextmanager
def export_friendly() -> Iterator[int]:
    """Replace the correlations of :data:`EXPORT_XCORR` in every loaded ``pysiam`` module (module
    attributes bound to them) for the duration; yields how many bindings were swapped."""
    swap: Dict[int, Callable] = {id(a): b for a, b in EXPORT_XCORR}
    done: List[Tuple[object, str, Callable]] = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "pysiam" or name.startswith("pysiam.")) or name.startswith("pysiam.deploy"):
            continue
        for attr, value in list(vars(module).items()):
            if callable(value) and id(value) in swap:
                done.append((module, attr, value))
                setattr(module, attr, swap[id(value)])
    try:
        yield len(done)
    finally:
        for module, attr, value in reversed(done):
            setattr(module, attr, value)
