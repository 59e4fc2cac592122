"""Winograd F(4x4, 3x3) convolution: 3x3 stride-1 convolutions with 4x fewer multiplications.

The float32 CPU path of a Siamese tracker spends most of its time in 3x3 convolutions on the
31 x 31 search features (SiamRPN++'s ResNet-50 runs layers 3 and 4 dilated at stride 8; the
1024 -> 2048 shortcut of layer 4 alone is a 3x3 convolution of 18 GMAC). oneDNN computes them
directly. Winograd's minimal filtering algorithm computes each 4 x 4 output tile from a 6 x 6
input tile with 36 multiplications per (input, output) channel pair instead of 144:

    Y = A^T [ (G g G^T) * (B^T d B) ] A        (g: 3x3 filter, d: 6x6 input tile, *: elementwise)

The filter transform ``G g G^T`` is done once (in float64); per call the input transform is one
strided 6x6 convolution, the channel mixing is 36 matrix products (``torch.bmm``), and the output
transform one small matrix product. Dilated convolutions are split into ``dilation**2`` ordinary
ones on interleaved sub-grids (space-to-batch). The matrices come from the Toom-Cook construction
with the interpolation points 0, 1, -1, 1/2, -2 and infinity: in float32 they give about three
times less rounding error than the usual 0, +-1, +-2 (see tests/test_winograd.py).

Cost: memory for the transformed filters, 4x the converted 3x3 weights (630 MB for SiamRPN++
ResNet-50, 180 MB for SiamMask), and rounding only. Measured on the shipped ResNet-50 SiamRPN++ with random weights, the
cls/loc outputs move by about 1e-6 of their largest value, the same order as BN folding.

:class:`WinogradConv2d` runs the algorithm only where it pays: float32 tensors on the CPU outside
autocast; elsewhere (CUDA, where cuDNN picks its own algorithms; bf16/fp16 autocast) it calls the
ordinary convolution with the original weights, so a converted model stays device-agnostic.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["toom_cook_matrices", "WinogradConv2d", "winograd_supported", "convert_to_winograd",
           "WINOGRAD_POINTS", "WINOGRAD_MIN_CHANNELS"]

#: finite interpolation points of F(4, 3) (the sixth point is infinity)
WINOGRAD_POINTS: Tuple[Fraction, ...] = (Fraction(0), Fraction(1), Fraction(-1), Fraction(1, 2), Fraction(-2))
#: convolutions with fewer input or output channels stay direct (the transforms would not pay)
WINOGRAD_MIN_CHANNELS = 256

_M, _R = 4, 3          # output tile, filter size
_N = _M + _R - 1       # input tile (6)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _poly_from_roots(roots: Sequence[Fraction]) -> list:
    """Coefficients (lowest power first) of prod (x - root)."""
    coeffs = [Fraction(1)]
    for root in roots:
        shifted = [Fraction(0)] + coeffs
        for i in range(len(coeffs)):
            shifted[i] -= root * coeffs[i]
        coeffs = shifted
    return coeffs


def toom_cook_matrices(points: Sequence[Fraction] = WINOGRAD_POINTS, m: int = _M,
                       r: int = _R) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(A^T, G, B^T)`` of the 1-D algorithm F(m, r) for ``m + r - 2`` distinct finite points
    plus the point at infinity, in float64 (computed exactly with fractions).

    Shapes: A^T (m, n), G (n, r), B^T (n, n) with n = m + r - 1; for every filter g and input d,
    ``A^T ((G g) * (B^T d))`` is the valid correlation ``[sum_k g[k] d[i + k] for i < m]``.
    """
    n = m + r - 1
    pts = [Fraction(p) for p in points]
    if len(pts) != n - 1 or len(set(pts)) != len(pts):
        raise ValueError(f"F({m}, {r}) needs {n - 1} distinct finite points, got {list(points)}")
    at = [[Fraction(0)] * n for _ in range(m)]
    g = [[Fraction(0)] * r for _ in range(n)]
    bt = [[Fraction(0)] * n for _ in range(n)]
    for j, a in enumerate(pts):
        others = pts[:j] + pts[j + 1:]
        denom = Fraction(1)
        for b in others:
            denom *= a - b
        for i in range(m):
            at[i][j] = a ** i
        for k in range(r):
            g[j][k] = a ** k / denom
        for k, c in enumerate(_poly_from_roots(others)):
            bt[j][k] = c
    at[m - 1][n - 1] = Fraction(1)
    g[n - 1][r - 1] = Fraction(1)
    for k, c in enumerate(_poly_from_roots(pts)):
        bt[n - 1][k] = c

    def tensor(rows):
        return torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64)
    return tensor(at), tensor(g), tensor(bt)


def winograd_supported(conv: nn.Module) -> bool:
    """Whether ``conv`` is a plain 3x3, stride-1, ungrouped Conv2d with zero padding and equal
    padding / dilation in both directions (what :class:`WinogradConv2d` computes)."""
    return (type(conv) is nn.Conv2d and conv.kernel_size == (3, 3) and conv.stride == (1, 1)
            and conv.groups == 1 and conv.padding_mode == "zeros" and not isinstance(conv.padding, str)
            and conv.padding[0] == conv.padding[1] and conv.dilation[0] == conv.dilation[1])


class WinogradConv2d(nn.Module):
    """A 3x3 stride-1 convolution computed with Winograd F(4x4, 3x3) (see the module docstring).

    Built from an ``nn.Conv2d`` (whose weights it keeps for the fallback path); same input and
    output as that convolution up to float32 rounding.
    """

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        if not winograd_supported(conv):
            raise ValueError(f"WinogradConv2d needs a 3x3 stride-1 ungrouped zero-padded Conv2d, got {conv}")
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels
        self.padding, self.dilation = int(conv.padding[0]), int(conv.dilation[0])
        self.weight = nn.Parameter(conv.weight.detach().clone(), requires_grad=False)
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone(), requires_grad=False)
        at, g, bt = toom_cook_matrices()
        self._g = g
        # U[t] (out x in) for each of the 36 transform-domain positions t = 6 * row + col: made on
        # the first CPU call (4x the weights' memory; a model that only runs on CUDA never pays)
        self._u: Optional[torch.Tensor] = None
        self._u_key: Optional[Tuple[int, int]] = None
        self.register_load_state_dict_post_hook(lambda module, keys: module.clear_cache())
        # input transform B^T d B of every 6x6 tile as one 36-channel strided convolution
        self.register_buffer("in_kernel", torch.kron(bt, bt).float().view(_N * _N, 1, _N, _N), persistent=False)
        # output transform A^T M A as a (16, 36) matrix on the flattened tiles
        self.register_buffer("out_matrix", torch.kron(at, at).float(), persistent=False)
        self.to(conv.weight.device)

    def clear_cache(self) -> None:
        """Forget the transformed weights (they are rebuilt on the next CPU call)."""
        self._u = self._u_key = None

    @torch.compiler.disable  # bookkeeping in Python: under torch.compile it runs eagerly
    def transformed_weight(self) -> torch.Tensor:
        """``G g G^T`` of every filter as (36, out, in) float32 on the CPU (cached until the
        weights change)."""
        try:
            version = self.weight._version
        except RuntimeError:  # an inference tensor: no version counter (nor in-place edits after)
            version = -1
        key = (id(self.weight), version)
        if self._u is None or self._u_key != key:
            w = self.weight.detach().to("cpu", torch.float64)
            filt = torch.einsum("ij,kcjl,ml->imkc", self._g, w, self._g)
            self._u = filt.reshape(_N * _N, self.out_channels, self.in_channels).float().contiguous()
            self._u_key = key
        return self._u

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size=(3, 3), padding={self.padding}, "
                f"dilation={self.dilation}, bias={self.bias is not None}")

    def _direct(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, self.bias, padding=self.padding, dilation=self.dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (x.device.type != "cpu" or x.dtype != torch.float32 or x.dim() != 4
                or torch.is_autocast_enabled("cpu") or x.shape[1] != self.in_channels):
            return self._direct(x)
        n, c, h, w = x.shape
        d, p, k = self.dilation, self.padding, self.out_channels
        ho, wo = h + 2 * p - 2 * d, w + 2 * p - 2 * d
        if ho <= 0 or wo <= 0:
            return self._direct(x)
        # each of the d*d interleaved sub-grids is an ordinary (undilated) valid convolution
        th, tw = _ceil_div(_ceil_div(ho, d), _M), _ceil_div(_ceil_div(wo, d), _M)  # tiles per sub-grid
        hs, ws = _M * th + 2, _M * tw + 2                               # sub-grid input size
        xp = F.pad(x, (p, d * ws - w - p, p, d * hs - h - p))
        if d > 1:
            xp = xp.view(n, c, hs, d, ws, d).permute(0, 1, 3, 5, 2, 4)
        tiles = F.conv2d(xp.reshape(n * c * d * d, 1, hs, ws), self.in_kernel, stride=_M)
        v = tiles.view(n, c, d * d, _N * _N, th * tw).permute(3, 1, 0, 2, 4).reshape(_N * _N, c, -1)
        m = torch.bmm(self.transformed_weight(), v)                     # (36, k, n*d*d*th*tw)
        y = (self.out_matrix @ m.view(_N * _N, -1)).view(_M, _M, k, n, d, d, th, tw)
        # output row = d * (4 * tile_row + i) + sub-grid row (same for columns)
        y = y.permute(3, 2, 6, 0, 4, 7, 1, 5).reshape(n, k, th * _M * d, tw * _M * d)[:, :, :ho, :wo]
        if self.bias is None:
            return y.contiguous()
        out = torch.empty((n, k, ho, wo), dtype=y.dtype)
        return torch.add(y, self.bias.view(1, -1, 1, 1), out=out)


def convert_to_winograd(model: nn.Module, min_channels: int = WINOGRAD_MIN_CHANNELS) -> int:
    """Replace (in place) every supported Conv2d of ``model`` with at least ``min_channels``
    input and output channels by a :class:`WinogradConv2d`. Returns how many were replaced.
    Fold BatchNorm first (a WinogradConv2d is not a Conv2d)."""
    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if winograd_supported(child) and min(child.in_channels, child.out_channels) >= min_channels:
                setattr(parent, name, WinogradConv2d(child))
                count += 1
    return count
