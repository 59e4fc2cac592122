"""Safe reading of ``torch.save`` / pickle files: nothing in the file is executed.

``torch.load(weights_only=True)`` with an allow-list (:data:`SAFE_GLOBALS`) of the harmless
globals that real checkpoints carry besides torch's own types: numpy's scalar reconstructor
(under its numpy 1 and numpy 2 module names), ``numpy.dtype`` and the numpy dtype classes
(NanoTrack's and pysot's training checkpoints pickle numpy scalars). The list is applied as a
``torch.serialization.safe_globals`` context, never registered process-wide. Before loading, the
file's globals are listed without unpickling (torch's scanner for zip files, an opcode scan of
legacy / plain pickles) so that the error can name the offending global.
"""
from __future__ import annotations

import pickletools
import re
import zipfile
from pathlib import Path
from typing import Any, List, Tuple

import torch

__all__ = ["SAFE_GLOBALS", "UnsafePickleError", "safe_torch_load", "unsafe_globals"]


class UnsafePickleError(ValueError):
    """The file references a global outside the allow-list; the message names the file and it."""


def _numpy_safe_globals() -> List[Any]:
    """numpy's scalar reconstructor (under both module names) and dtype classes."""
    import numpy as np
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray
    scalar = multiarray.scalar
    dtypes = {type(np.dtype(t)) for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                                          np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                                          np.float64, np.longlong, np.ulonglong, np.longdouble,
                                          np.complex64, np.complex128)}
    return ([(scalar, "numpy.core.multiarray.scalar"), (scalar, "numpy._core.multiarray.scalar"), np.dtype]
            + sorted(dtypes, key=lambda t: t.__name__))


#: the only globals a checkpoint may reference without trusting it (numpy scalars and dtypes)
SAFE_GLOBALS: Tuple[Any, ...] = tuple(_numpy_safe_globals())


def _global_name(entry: Any) -> str:
    return entry[1] if isinstance(entry, tuple) else f"{entry.__module__}.{entry.__qualname__}"


_SAFE_NAMES = frozenset(_global_name(g) for g in SAFE_GLOBALS)


def _pickle_globals(path: Path, max_pickles: int = 8) -> List[str]:
    """Names of the globals the pickle(s) at the start of a legacy / plain file import, read
    opcode by opcode (nothing is executed). Memoised STACK_GLOBAL names may be missed; the
    restricted unpickler still refuses them."""
    names: List[str] = []
    with open(path, "rb") as f:
        for _ in range(max_pickles):  # torch's legacy format: a few pickles, then raw storages
            strings: List[str] = []
            try:
                for op, arg, _pos in pickletools.genops(f):
                    if op.name == "GLOBAL":
                        names.append(str(arg).replace(" ", "."))
                    elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                        names.append(f"{strings[-2]}.{strings[-1]}")
                    elif isinstance(arg, str):
                        strings.append(arg)
            except Exception:  # noqa: BLE001 - end of the pickles (storage bytes or garbage)
                break
    return [n.replace("__builtin__.", "builtins.") for n in names]


def _torch_allowed() -> frozenset:
    try:
        from torch._weights_only_unpickler import _get_allowed_globals
        return frozenset(_get_allowed_globals())
    except Exception:  # noqa: BLE001 - private API moved: rely on the restricted unpickler alone
        return frozenset()


def unsafe_globals(path: Path) -> List[str]:
    """Globals of a checkpoint outside torch's defaults and :data:`SAFE_GLOBALS`, found
    without unpickling."""
    if zipfile.is_zipfile(path):
        try:
            found = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        except Exception:  # noqa: BLE001 - unreadable: the restricted load reports it
            return []
    else:
        allowed = _torch_allowed()
        found = [g for g in _pickle_globals(path) if g not in allowed and not g.startswith("torch.")]
    return list(dict.fromkeys(g for g in found if g not in _SAFE_NAMES))


def _refusal(path: Path, names: List[str]) -> UnsafePickleError:
    return UnsafePickleError(f"{path}: refusing to unpickle global(s) {', '.join(names)}: not in the "
                             f"safe list (numpy scalars/dtypes); load with trust=True "
                             f"(--trust-checkpoint) ONLY if you trust the file: it can run arbitrary code")


def safe_torch_load(path: Path) -> Any:
    """``torch.load`` on CPU that runs nothing from the file; :class:`UnsafePickleError` when it
    needs a global outside torch's types and :data:`SAFE_GLOBALS`. Other failures propagate."""
    names = unsafe_globals(path)
    if names:
        raise _refusal(path, names)
    try:
        with torch.serialization.safe_globals(list(SAFE_GLOBALS)):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - the restricted unpickler raises many kinds
        m = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        if m:
            raise _refusal(path, [m.group(1)]) from None
        raise
