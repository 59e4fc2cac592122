"""Search spaces of test-time hyper-parameters and the trial lists drawn from them.

A space is a YAML mapping (see ``pysiam/configs/tune_spaces/``)::

    method: sobol            # grid | random | sobol | halton
    trials: 64               # sampled methods only (a grid has its own size)
    seed: 0
    round: 4                 # decimals kept of sampled continuous values
    params:
      PENALTY_K: {low: 0.0, high: 0.5}              # continuous, uniform
      WINDOW_INFLUENCE: {low: 0.2, high: 0.6, step: 0.05}   # discrete: low, low + step, ... <= high
      LR: [0.3, 0.35, 0.4]                          # discrete values
      TRACK.INSTANCE_SIZE: {values: [255, 271, 287]}
      MASK_THRESHOLD: {low: 0.1, high: 0.5, num: 9} # discrete: numpy-style linspace
      SOME_KEY: {low: 0.001, high: 0.1, log: true}  # continuous, log-uniform

A bare name means ``TRACK.<name>``; ``MASK_THRESHOLD`` is pysot's ``TRACK.MASK_THERSHOLD``.
Sampled methods map a point u of [0, 1)^d to values: continuous ranges linearly (or in log space),
discrete lists by index floor(u * n). Sobol (scrambled, torch's engine) and Halton points are
prefix-stable: raising ``trials`` keeps the earlier trials. A grid is the product of the discrete
lists in the order the parameters are written; with fewer trials than grid points a seeded
permutation of the grid is cut (also prefix-stable).

Parameter parsing lives in :mod:`pysiam.tune.space_parse`, the unit-cube samplers in
:mod:`pysiam.tune.sampling`; both are re-exported here.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Union

import numpy as np

from pysiam.tune.sampling import halton, sample_unit
from pysiam.tune.space_parse import ALIASES, Param, SpaceError, parse_param

if TYPE_CHECKING:
    from yacs.config import CfgNode

__all__ = ["SpaceError", "Param", "SearchSpace", "Trial", "METHODS", "ALIASES", "trial_key",
           "halton", "sample_unit", "default_space", "load_space", "space_from_dict"]

METHODS = ("grid", "random", "sobol", "halton")


@dataclass(frozen=True)
class Trial:
    """One setting to evaluate: ``index`` in the trial list, ``params`` {config key: value}."""

    index: int
    params: Dict[str, Any] = field(hash=False)

    @property
    def key(self) -> str:
        return trial_key(self.params)

    @property
    def name(self) -> str:
        return f"t{self.index:04d}"


def trial_key(params: Dict[str, Any]) -> str:
    """Canonical text of a setting (sorted keys, exact values): identifies a trial across reruns."""
    return json.dumps({k: params[k] for k in sorted(params)}, separators=(",", ":"))


@dataclass
class SearchSpace:
    """Parameters plus how trials are drawn (method, count, seed, rounding of sampled values)."""

    params: List[Param]
    method: str = "sobol"
    trials: int = 32
    seed: int = 0
    decimals: int = 4
    source: str = "<default>"

    def __post_init__(self) -> None:
        if not self.params:
            raise SpaceError(f"{self.source}: the space has no parameters")
        if self.method not in METHODS:
            raise SpaceError(f"{self.source}: method must be one of {', '.join(METHODS)}, "
                             f"not {self.method!r}")
        keys = [p.key for p in self.params]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise SpaceError(f"{self.source}: parameter(s) given twice: {', '.join(dup)}")
        if self.method == "grid":
            cont = [p.key for p in self.params if not p.discrete]
            if cont:
                raise SpaceError(f"{self.source}: a grid needs discrete parameters (values, or "
                                 f"low/high with step or num): {', '.join(cont)} is continuous")
        if self.trials is not None and self.trials < 1:
            raise SpaceError(f"{self.source}: trials must be >= 1, got {self.trials}")

    @property
    def keys(self) -> List[str]:
        return [p.key for p in self.params]

    @property
    def grid_size(self) -> int:
        return int(np.prod([len(p.values) for p in self.params])) if all(
            p.discrete for p in self.params) else 0

    def with_overrides(self, method: Optional[str] = None, trials: Optional[int] = None,
                       seed: Optional[int] = None) -> "SearchSpace":
        """A copy with the command line's --method / --trials / --seed applied."""
        method = method or self.method
        trials = self.trials if trials is None else trials
        if trials is None and method != "grid":
            trials = 32
        return SearchSpace(self.params, method, trials, self.seed if seed is None else seed,
                           self.decimals, self.source)

    def trial_list(self) -> List[Trial]:
        """The trials in evaluation order; settings repeated by a sampler are kept once."""
        if self.method == "grid":
            combos = list(itertools.product(*(p.values for p in self.params)))
            if self.trials is not None and self.trials < len(combos):
                order = np.random.default_rng(self.seed).permutation(len(combos))[:self.trials]
                combos = [combos[i] for i in order]
            rows = [dict(zip(self.keys, c)) for c in combos]
        else:
            u = sample_unit(self.method, self.trials, len(self.params), self.seed)
            rows = [{p.key: p.from_unit(float(x), self.decimals) for p, x in zip(self.params, row)}
                    for row in u]
        out, seen = [], set()
        for row in rows:
            k = trial_key(row)
            if k not in seen:
                seen.add(k)
                out.append(Trial(len(out), row))
        return out

    def describe(self) -> str:
        parts = []
        for p in self.params:
            if p.discrete:
                parts.append(f"{p.key} in {list(p.values)}")
            else:
                parts.append(f"{p.key} in [{p.low:g}, {p.high:g}]{' (log)' if p.log else ''}")
        size = f"{self.grid_size} grid points" if self.method == "grid" else f"{self.trials} trials"
        return f"{self.method} ({size}, seed {self.seed}): " + "; ".join(parts)


# --------------------------------------------------------------------------------- loading
def space_from_dict(data: Dict[str, Any], source: str = "<dict>",
                    valid_keys: Optional[Sequence[str]] = None,
                    defaults: Optional[Dict[str, Any]] = None) -> SearchSpace:
    """A space from a parsed YAML mapping (see the module docstring for the format)."""
    if not isinstance(data, dict):
        raise SpaceError(f"{source}: a search space is a mapping with 'params', got {type(data).__name__}")
    unknown = set(data) - {"method", "trials", "seed", "round", "params"}
    if unknown:
        raise SpaceError(f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))} "
                         f"(known: method, trials, seed, round, params)")
    params = data.get("params")
    if not isinstance(params, dict) or not params:
        raise SpaceError(f"{source}: 'params' must be a non-empty mapping of config keys")
    parsed = [parse_param(k, v, f"{source}: params.{k}", valid_keys, defaults or {})
              for k, v in params.items()]
    trials = data.get("trials")
    return SearchSpace(parsed, method=str(data.get("method", "sobol")),
                       trials=None if trials is None and data.get("method") == "grid"
                       else int(trials if trials is not None else 32),
                       seed=int(data.get("seed", 0)), decimals=int(data.get("round", 4)),
                       source=source)


def _cfg_defaults(cfg: CfgNode) -> Dict[str, Any]:
    from pysiam.config import flatten_keys

    out = {}
    for k in flatten_keys(cfg):
        node = cfg
        for part in k.split("."):
            node = node[part]
        out[k] = node
    return out


def load_space(path: Union[str, Path], cfg: Optional[CfgNode] = None) -> SearchSpace:
    """Read a space YAML (a path, or the name of a shipped space in pysiam/configs/tune_spaces).

    With ``cfg``, every key must exist in it and integer keys take integer values.
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        shipped = Path(__file__).resolve().parent.parent / "configs" / "tune_spaces"
        for cand in (shipped / p.name, shipped / f"{p.name}.yaml"):
            if cand.is_file():
                p = cand
                break
        else:
            names = ", ".join(sorted(q.stem for q in shipped.glob("*.yaml")))
            raise FileNotFoundError(f"search space not found: {path} (shipped spaces: {names})")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise SpaceError(f"{p}{line}: not valid YAML: {e}") from None
    defaults = _cfg_defaults(cfg) if cfg is not None else {}
    return space_from_dict(data, str(p), list(defaults) if cfg is not None else None, defaults)


def default_space(cfg: Optional[CfgNode]) -> SearchSpace:
    """pysot's usual ranges: penalty k, window influence, lr (and the mask threshold for SiamMask)."""
    data: Dict[str, Any] = {"method": "sobol", "trials": 32, "params": {
        "PENALTY_K": {"low": 0.0, "high": 0.5},
        "WINDOW_INFLUENCE": {"low": 0.1, "high": 0.8},
        "LR": {"low": 0.1, "high": 0.8}}}
    if cfg is not None and cfg.MASK.MASK:
        data["params"]["MASK_THRESHOLD"] = {"low": 0.1, "high": 0.5}
    defaults = _cfg_defaults(cfg) if cfg is not None else {}
    return space_from_dict(data, "<default space>", list(defaults) if cfg is not None else None,
                           defaults)
