"""Building a module from a plain name -> constructor table (backbones, necks, heads)."""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping


def build_from_table(table: Mapping[str, Callable[..., Any]], kind: str, name: str,
                     kwargs: Dict[str, Any]) -> Any:
    """``table[name](**kwargs)`` with errors that name the ``kind``, the name and the KWARGS."""
    if name not in table:
        raise KeyError(f"unknown {kind} type {name!r}; known: {', '.join(sorted(table))}")
    try:
        return table[name](**kwargs)
    except TypeError as e:
        raise TypeError(f"{kind} {name!r}: bad KWARGS {kwargs}: {e}") from None
