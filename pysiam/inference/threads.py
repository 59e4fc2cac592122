"""Process-wide CPU thread settings of the tools."""
from __future__ import annotations

import torch

from .options import InferenceOptions

__all__ = ["apply_threads"]


def apply_threads(options: InferenceOptions) -> None:
    """``torch.set_num_threads(options.threads)`` when it is set (> 0); a process-wide setting."""
    if options.threads > 0:
        torch.set_num_threads(int(options.threads))
