"""Metric names a tuning search may optimise, with the aliases users type."""
from __future__ import annotations

from typing import Any, Optional

__all__ = ["METRIC_ALIASES", "resolve_metric"]

METRIC_ALIASES = {"auc": "success_auc", "success": "success_auc", "jf": "JF_mean",
                  "j&f": "JF_mean", "j": "J_mean", "f": "F_mean", "f1": "f_score"}


def resolve_metric(protocol: Any, name: Optional[str]) -> str:
    """``name`` (or an alias, any case) checked against ``protocol.metrics``; None: the default."""
    known = protocol.metrics
    if not name:
        return known[0]
    m = METRIC_ALIASES.get(name.lower(), name)
    if m not in known:
        m = {k.lower(): k for k in known}.get(m.lower(), m)
    if m not in known:
        raise ValueError(f"metric {name!r} is not reported for the {protocol.name} protocol; "
                         f"choose one of {', '.join(known)}")
    return m
