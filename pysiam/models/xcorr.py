"""Cross-correlation between template and search features, batched as one grouped convolution.

Both functions fold the batch into the channel dimension so that every sample is correlated
with its own template in a single ``F.conv2d`` call (no Python loop over the batch).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["xcorr_depthwise", "xcorr_fast"]


def xcorr_depthwise(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Channel-by-channel correlation of ``search`` (B, C, H, W) with ``kernel`` (B, C, h, w).

    Returns (B, C, H - h + 1, W - w + 1): channel c of sample b is ``search[b, c]`` correlated with
    ``kernel[b, c]`` (no padding, stride 1).
    """
    b, c, h, w = search.shape
    if kernel.shape[:2] != (b, c):
        raise ValueError(f"xcorr_depthwise: kernel {tuple(kernel.shape)} does not match search "
                         f"{tuple(search.shape)} in batch and channels")
    out = F.conv2d(search.reshape(1, b * c, h, w),
                   kernel.reshape(b * c, 1, kernel.shape[2], kernel.shape[3]), groups=b * c)
    return out.view(b, c, out.shape[2], out.shape[3])


def xcorr_fast(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Up-channel correlation: ``kernel`` (B, K*C, h, w) holds K full kernels over C channels each.

    Returns (B, K, H - h + 1, W - w + 1), the correlation of ``search`` (B, C, H, W) with each of the
    K kernels of its own sample.
    """
    b, c, h, w = search.shape
    if kernel.shape[0] != b or kernel.shape[1] % c:
        raise ValueError(f"xcorr_fast: kernel {tuple(kernel.shape)} does not match search "
                         f"{tuple(search.shape)}")
    out = F.conv2d(search.reshape(1, b * c, h, w),
                   kernel.reshape(-1, c, kernel.shape[2], kernel.shape[3]), groups=b)
    return out.view(b, -1, out.shape[2], out.shape[3])
