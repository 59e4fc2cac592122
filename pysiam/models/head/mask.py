"""SiamMask heads: the mask correlation branch and the refine module.

:class:`MaskCorr` is a depth-wise correlation head whose 1x1 output gives ``out_channels``
(63 * 63 = 3969) mask logits per position; it also returns the correlation feature before its
head, which the refine module reads.

:class:`Refine` turns the correlation vector at one score-map position plus windows of three
earlier backbone maps into a 127 x 127 mask (logits). For a 255 search crop (maps f0 64x125x125,
f1 256x63x63, f2 512x31x31, correlation 256x25x25) the windows at position (row, col) are, after
zero padding by (16, 8, 4): f0 rows/cols ``4*row .. 4*row+60``, f1 ``2*row .. 2*row+30``,
f2 ``row .. row+14`` (61, 31 and 15 pixels, all centred on the position's receptive field).
Stages merge as ``post0(up31(h2(deconv(c)) + v2(p2)))`` -> ``post1(up61(h1(.) + v1(p1)))`` ->
``post2(up127(h0(.) + v0(p0)))`` with nearest-neighbour upsampling.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from .rpn import DepthwiseXCorr

__all__ = ["MaskCorr", "Refine"]


class MaskCorr(DepthwiseXCorr):
    """Depth-wise correlation mask branch; ``match`` returns ``(mask_logits or None, corr_feature)``.

    ``hidden_kernel_size`` is accepted for compatibility with pysot's keyword list and unused.
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, kernel_size: int = 3,
                 hidden_kernel_size: int = 5):
        super().__init__(in_channels, hidden, out_channels, kernel_size)

    def match(self, kernel: torch.Tensor, x: torch.Tensor,  # type: ignore[override]
              with_mask: bool = True) -> Tuple[Optional[torch.Tensor], torch.Tensor]:
        """``with_mask=False`` skips the 3969-channel head (the refine path only needs the feature)."""
        feature = self.correlate(kernel, x)
        return (self.head(feature) if with_mask else None), feature

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        return self.match(self.encode_template(z), x)


def _two_convs(cin: int, mid: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, mid, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(mid, cout, 3, padding=1), nn.ReLU(inplace=True))


Position = Union[Tuple[int, int], Sequence[int], torch.Tensor]


class Refine(nn.Module):
    """SiamMask's refine module (test-time padded windows, plus batched window gathering for training).

    Channel sizes are fixed by the released weights: inputs f0/f1/f2 with 64/256/512 channels and
    a 256-channel correlation feature.
    """

    #: window side, stride (input pixels per score-map step) and test-time zero padding of f0, f1, f2
    WINDOWS = (61, 31, 15)
    STRIDES = (4, 2, 1)
    PADDING = (16, 8, 4)
    OUT_SIZE = 127

    def __init__(self):
        super().__init__()
        self.v0 = _two_convs(64, 16, 4)
        self.v1 = _two_convs(256, 64, 16)
        self.v2 = _two_convs(512, 128, 32)
        self.h2 = _two_convs(32, 32, 32)
        self.h1 = _two_convs(16, 16, 16)
        self.h0 = _two_convs(4, 4, 4)
        self.deconv = nn.ConvTranspose2d(256, 32, 15, 15)
        self.post0 = nn.Conv2d(32, 16, 3, padding=1)
        self.post1 = nn.Conv2d(16, 4, 3, padding=1)
        self.post2 = nn.Conv2d(4, 1, 3, padding=1)

    # -- window extraction -------------------------------------------------------------------
    @classmethod
    def centred_padding(cls, feature_sizes: Sequence[int], corr_size: int) -> Tuple[int, int, int]:
        """Zero padding of f0/f1/f2 that centres the windows of a ``corr_size`` grid on each map.

        255 search (125/63/31 maps, 25x25 grid) -> (16, 8, 4), pysot's test-time values;
        143 search (69/35/17, 3x3 grid) -> (0, 0, 0), the original SiamMask training layout.
        """
        pads = []
        for size, win, stride in zip(feature_sizes, cls.WINDOWS, cls.STRIDES):
            extra = win + stride * (corr_size - 1) - size
            if extra < 0 or extra % 2:
                raise ValueError(f"cannot centre {win}-pixel windows of a {corr_size}x{corr_size} grid "
                                 f"on a {size}-pixel map")
            pads.append(extra // 2)
        return tuple(pads)  # type: ignore[return-value]

    @staticmethod
    def _window_at(feat: torch.Tensor, pad: int, size: int, stride: int, row: int, col: int) -> torch.Tensor:
        if pad:
            feat = F.pad(feat, [pad, pad, pad, pad])
        r0, c0 = stride * row, stride * col
        if r0 < 0 or c0 < 0 or r0 + size > feat.shape[2] or c0 + size > feat.shape[3]:
            raise IndexError(f"refine position ({row}, {col}) puts a {size}-pixel window outside a "
                             f"{feat.shape[2]}x{feat.shape[3]} (padded) map")
        return feat[:, :, r0:r0 + size, c0:c0 + size]

    @staticmethod
    def _gather_windows(feat: torch.Tensor, pad: int, size: int, stride: int, batch: torch.Tensor,
                        rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Windows (N, C, size, size) at (batch[i], rows[i], cols[i]) in one advanced-indexing gather."""
        if pad:
            feat = F.pad(feat, [pad, pad, pad, pad])
        offs = torch.arange(size, device=feat.device)
        r = (rows * stride).unsqueeze(1) + offs  # (N, size)
        c = (cols * stride).unsqueeze(1) + offs
        if feat.device.type == "cpu" and r.numel():
            hi_r, hi_c = int(r.max()), int(c.max())
            if int(r.min()) < 0 or int(c.min()) < 0 or hi_r >= feat.shape[2] or hi_c >= feat.shape[3]:
                raise IndexError(f"refine positions put {size}-pixel windows outside a "
                                 f"{feat.shape[2]}x{feat.shape[3]} (padded) map")
        out = feat[batch[:, None, None], :, r[:, :, None], c[:, None, :]]  # (N, size, size, C)
        return out.permute(0, 3, 1, 2)

    # -- the network -------------------------------------------------------------------------
    def decode(self, p0: torch.Tensor, p1: torch.Tensor, p2: torch.Tensor,
               corr: torch.Tensor) -> torch.Tensor:
        """Masks (N, 127*127) from windows p0/p1/p2 (N, C, 61|31|15, same) and vectors corr (N, 256)."""
        out = self.deconv(corr.reshape(corr.shape[0], -1, 1, 1))
        out = self.post0(F.interpolate(self.h2(out) + self.v2(p2), size=(31, 31), mode="nearest"))
        out = self.post1(F.interpolate(self.h1(out) + self.v1(p1), size=(61, 61), mode="nearest"))
        out = self.post2(F.interpolate(self.h0(out) + self.v0(p0), size=(127, 127), mode="nearest"))
        return out.view(-1, self.OUT_SIZE * self.OUT_SIZE)

    def forward(self, features: Sequence[torch.Tensor], corr_feature: torch.Tensor,
                pos: Position, padding: Sequence[int] = PADDING) -> torch.Tensor:
        """Refined mask logits (B, 127*127) at score-map position ``pos = (row, col)`` for every sample.

        ``features`` = [f0, f1, f2] of the search image, ``corr_feature`` the mask branch's
        correlation feature (B, 256, H, W). ``pos`` may also be a LongTensor (B, 2), one
        (row, col) per sample.
        """
        if isinstance(pos, torch.Tensor) and pos.dim() == 2:
            batch = torch.arange(pos.shape[0], device=pos.device)
            return self.forward_positions(features, corr_feature, batch, pos[:, 0], pos[:, 1], padding)
        row, col = (int(v) for v in pos)
        p = [self._window_at(f, pad, size, stride, row, col)
             for f, pad, size, stride in zip(features, padding, self.WINDOWS, self.STRIDES)]
        return self.decode(p[0], p[1], p[2], corr_feature[:, :, row, col])

    def forward_positions(self, features: Sequence[torch.Tensor], corr_feature: torch.Tensor,
                          batch: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
                          padding: Sequence[int] = PADDING) -> torch.Tensor:
        """Masks (N, 127*127) for N chosen positions: sample ``batch[i]`` at ``(rows[i], cols[i])``.

        For training: pick positive positions of a batch and refine only those. Use
        :meth:`centred_padding` for search sizes other than 255.
        """
        batch, rows, cols = (t.to(corr_feature.device, torch.long) for t in (batch, rows, cols))
        p = [self._gather_windows(f, pad, size, stride, batch, rows, cols)
             for f, pad, size, stride in zip(features, padding, self.WINDOWS, self.STRIDES)]
        corr = corr_feature[batch, :, rows, cols]  # (N, 256)
        return self.decode(p[0], p[1], p[2], corr)

    def forward_all(self, features: Sequence[torch.Tensor], corr_feature: torch.Tensor,
                    padding: Optional[Sequence[int]] = None) -> torch.Tensor:
        """Masks at every position, (B * H * W, 127*127) in (batch, row, col) order.

        ``padding=None`` centres the windows (:meth:`centred_padding`); memory grows with B*H*W,
        so this is meant for small training searches (143 -> 3x3 grid).
        """
        b, _, h, w = corr_feature.shape
        if padding is None:
            padding = self.centred_padding([f.shape[-1] for f in features], w)
        dev = corr_feature.device
        grid_b, grid_r, grid_c = torch.meshgrid(torch.arange(b, device=dev), torch.arange(h, device=dev),
                                                torch.arange(w, device=dev), indexing="ij")
        return self.forward_positions(features, corr_feature, grid_b.reshape(-1), grid_r.reshape(-1),
                                      grid_c.reshape(-1), padding)
