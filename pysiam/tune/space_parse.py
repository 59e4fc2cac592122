"""Parsing one searched parameter of a search space file into a :class:`Param`."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

__all__ = ["SpaceError", "Param", "ALIASES", "parse_param"]

# Short names accepted in a space file for keys whose real name is awkward.
ALIASES = {"MASK_THRESHOLD": "TRACK.MASK_THERSHOLD"}

_FIELDS = {"values", "low", "high", "range", "step", "num", "log", "type"}


class SpaceError(ValueError):
    """An invalid search space; the message names the file and the parameter."""


@dataclass(frozen=True)
class Param:
    """One searched config key: a discrete list of ``values`` or a continuous [low, high]."""

    key: str
    values: Optional[tuple] = None
    low: Optional[float] = None
    high: Optional[float] = None
    log: bool = False
    integer: bool = False

    @property
    def discrete(self) -> bool:
        return self.values is not None

    @property
    def short(self) -> str:
        """The key without its section, e.g. ``PENALTY_K``."""
        return self.key.rsplit(".", 1)[-1]

    def from_unit(self, u: float, decimals: int) -> Any:
        """The value at position ``u`` in [0, 1)."""
        if self.discrete:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.log:
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + u * (self.high - self.low)
        return int(round(v)) if self.integer else round(float(v), decimals)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpaceError(f"{where}: expected a number, got {value!r}")
    return value


def _canonical_key(name: str, where: str, valid_keys: Optional[Sequence[str]]) -> str:
    key = ALIASES.get(name, name if "." in name else f"TRACK.{name}")
    if valid_keys is not None and key not in valid_keys:
        import difflib

        close = difflib.get_close_matches(key, list(valid_keys), n=1, cutoff=0.6)
        hint = f" (nearest valid key: {close[0]})" if close else ""
        raise SpaceError(f"{where}: unknown config key {key}{hint}")
    return key


def _spec_mapping(spec: Any, where: str) -> Dict[str, Any]:
    """A parameter's spec as a mapping: a list or a single number becomes ``{values: [...]}``."""
    if isinstance(spec, (list, tuple)):
        spec = {"values": list(spec)}
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        spec = {"values": [spec]}
    if not isinstance(spec, dict):
        raise SpaceError(f"{where}: a parameter is a list of values or a mapping with values / "
                         f"low, high (+ step, num or log), got {spec!r}")
    unknown = set(spec) - _FIELDS
    if unknown:
        raise SpaceError(f"{where}: unknown field(s) {', '.join(sorted(unknown))} (known: values, "
                         f"low, high, range, step, num, log, type)")
    return spec


def _is_integer(spec: Dict[str, Any], default: Any, where: str) -> bool:
    """Whether the key takes integers: its ``type``, else the config default's, else the numbers'."""
    if "type" in spec:
        kind = spec["type"]
    elif default is not None:
        kind = "int" if isinstance(default, int) and not isinstance(default, bool) else "float"
    else:   # no config to ask: integers when every given number is one
        given = spec.get("values", [spec.get(k) for k in ("low", "high", "step") if k in spec])
        ints = isinstance(given, (list, tuple)) and given and all(
            isinstance(v, int) and not isinstance(v, bool) for v in given)
        kind = "int" if ints else "float"
    if kind not in ("int", "float"):
        raise SpaceError(f"{where}: type must be 'int' or 'float', not {kind!r}")
    return kind == "int"


def _cast(v: Any, integer: bool, key: str, where: str) -> Any:
    if not integer:
        return float(v)
    if float(v) != round(v):
        raise SpaceError(f"{where}: {key} takes integers, got {v!r}")
    return int(round(v))


def _listed(key: str, vals: Any, integer: bool, where: str) -> Param:
    """A discrete parameter from an explicit ``values`` list (repeats dropped)."""
    if not isinstance(vals, (list, tuple)) or not vals:
        raise SpaceError(f"{where}: 'values' must be a non-empty list")
    out = []
    for i, v in enumerate(vals):
        v = _cast(_number(v, f"{where}: values[{i}]"), integer, key, where)
        if v not in out:
            out.append(v)
    return Param(key, values=tuple(out), integer=integer)


def _bounds(spec: Dict[str, Any], where: str) -> Tuple[float, float, bool]:
    """(low, high, log) of a range given as ``range: [low, high]`` or ``low`` / ``high``."""
    if "range" in spec:
        r = spec["range"]
        if not isinstance(r, (list, tuple)) or len(r) != 2:
            raise SpaceError(f"{where}: 'range' must be [low, high]")
        low, high = r
    else:
        if "low" not in spec or "high" not in spec:
            raise SpaceError(f"{where}: give 'values', or 'low' and 'high' (or 'range')")
        low, high = spec["low"], spec["high"]
    low, high = float(_number(low, f"{where}: low")), float(_number(high, f"{where}: high"))
    if not high >= low:
        raise SpaceError(f"{where}: high ({high:g}) is below low ({low:g})")
    log = bool(spec.get("log", False))
    if log and low <= 0:
        raise SpaceError(f"{where}: a log range needs low > 0, got {low:g}")
    return low, high, log


def _ranged(key: str, spec: Dict[str, Any], integer: bool, where: str) -> Param:
    """A range: discrete with ``step`` or ``num``, else continuous."""
    low, high, log = _bounds(spec, where)
    if "step" in spec and "num" in spec:
        raise SpaceError(f"{where}: give 'step' or 'num', not both")
    if "step" in spec:
        step = float(_number(spec["step"], f"{where}: step"))
        if step <= 0:
            raise SpaceError(f"{where}: step must be > 0, got {step:g}")
        n = int(math.floor((high - low) / step + 1e-9)) + 1
        decimals = max(0, -int(math.floor(math.log10(step))) + 3)
        vals = [_cast(round(low + i * step, decimals), integer, key, where) for i in range(n)]
        return Param(key, values=tuple(dict.fromkeys(vals)), integer=integer)
    if "num" in spec:
        num = int(_number(spec["num"], f"{where}: num"))
        if num < 1:
            raise SpaceError(f"{where}: num must be >= 1")
        pts = np.geomspace(low, high, num) if log else np.linspace(low, high, num)
        vals = [_cast(round(float(v), 10), integer, key, where) for v in pts]
        return Param(key, values=tuple(dict.fromkeys(vals)), integer=integer)
    return Param(key, low=low, high=high, log=log, integer=integer)


def parse_param(name: Any, spec: Any, where: str, valid_keys: Optional[Sequence[str]],
                defaults: Dict[str, Any]) -> Param:
    """One ``params`` entry of a space file; ``where`` prefixes every error message."""
    key = _canonical_key(str(name), where, valid_keys)
    default = defaults.get(key)
    spec = _spec_mapping(spec, where)
    integer = _is_integer(spec, default, where)
    if "values" in spec:
        return _listed(key, spec["values"], integer, where)
    return _ranged(key, spec, integer, where)
