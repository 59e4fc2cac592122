"""Building a module from a plain name -> constructor table (backbones, necks, heads)."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, Mapping

__all__ = ["build_from_table", "KwargsError", "CONFIG_KEYS"]

#: the config section whose ``KWARGS`` feed each kind of module (for error messages)
CONFIG_KEYS = {"backbone": "BACKBONE", "neck": "ADJUST", "RPN head": "RPN", "mask head": "MASK",
               "refine head": "REFINE", "BAN head": "BAN"}


class KwargsError(ValueError, TypeError):
    """A ``*.KWARGS`` entry the constructor does not take (a ValueError: bad user input; also a
    TypeError for older callers)."""


def _unknown_keywords(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> tuple[list, list]:
    """(keywords ``fn`` does not accept, the ones it does); ([], []) when it takes ``**kwargs``."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return [], []
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return [], []
    accepted = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return [k for k in kwargs if k not in accepted], accepted


def build_from_table(table: Mapping[str, Callable[..., Any]], kind: str, name: str,
                     kwargs: Dict[str, Any]) -> Any:
    """``table[name](**kwargs)`` with errors that name the config key, the ``kind`` and the name."""
    if name not in table:
        raise KeyError(f"unknown {kind} type {name!r}; known: {', '.join(sorted(table))}")
    key = f"{CONFIG_KEYS.get(kind, kind)}.KWARGS"
    unknown, accepted = _unknown_keywords(table[name], kwargs)
    if unknown:
        raise KwargsError(f"{key}: unknown keyword {unknown[0]!r} for {kind} {name} (bad KWARGS "
                          f"{dict(kwargs)}; accepted: {', '.join(accepted) or 'none'})")
    try:
        return table[name](**kwargs)
    except TypeError as e:
        raise KwargsError(f"{key}: {kind} {name} rejects bad KWARGS {dict(kwargs)}: {e}") from None
