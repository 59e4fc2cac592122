"""Points in the unit cube for sampled search spaces: random, scrambled Sobol and Halton."""
from __future__ import annotations

import numpy as np

__all__ = ["halton", "sample_unit"]

_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71)


def halton(n: int, dim: int, skip: int = 1) -> np.ndarray:
    """The first n points (from index ``skip``) of the Halton sequence in [0, 1)^dim.

    Coordinate j is the radical inverse of the index in the j-th prime base: the base-b digits
    of the index mirrored behind the radix point. Index 0 (the origin) is skipped by default.
    """
    if dim > len(_PRIMES):
        raise ValueError(f"halton: at most {len(_PRIMES)} dimensions, got {dim}")
    idx = np.arange(skip, skip + n, dtype=np.int64)
    out = np.zeros((n, dim))
    for j in range(dim):
        b = _PRIMES[j]
        rest = idx.copy()
        scale = 1.0 / b
        while (rest > 0).any():
            out[:, j] += (rest % b) * scale
            rest //= b
            scale /= b
    return out


def sample_unit(method: str, n: int, dim: int, seed: int) -> np.ndarray:
    """n points in [0, 1)^dim: 'random' (numpy PCG64), 'sobol' (scrambled, torch) or 'halton'."""
    if method == "random":
        return np.random.default_rng(seed).random((n, dim))
    if method == "sobol":
        import torch
        from torch.quasirandom import SobolEngine

        pts = SobolEngine(dim, scramble=True, seed=seed).draw(n, dtype=torch.float64).numpy()
        return np.minimum(pts, np.nextafter(1.0, 0.0))
    if method == "halton":
        return halton(n, dim)
    raise ValueError(f"unknown sampling method {method!r}; known: random, sobol, halton")
