"""Score trial outputs in memory with each benchmark's own metric (through the protocol objects).

The numbers equal what ``tools/eval.py`` computes from the result files that ``tools/test.py``
would write for the same run: each protocol's ``scorable`` gives exactly what a write / read
round trip gives (VOT regions rounded to 4 decimals, long-term confidences to 6).

Default metric per protocol: OPE success AUC, VOT EAO, long-term F-score, GOT-10k AO, DAVIS J&F.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from pysiam.protocols import METRIC_ALIASES, PROTOCOLS, get_protocol

__all__ = ["METRICS", "METRIC_ALIASES", "resolve_metric", "scalars"]

# Metrics a search can optimise, per protocol; the first is the default.
METRICS: Dict[str, Tuple[str, ...]] = {name: p.metrics for name, p in PROTOCOLS.items()}


def resolve_metric(protocol: str, name: Optional[str]) -> str:
    """The metric to optimise: ``name`` (or an alias) checked against the protocol, else its default."""
    return get_protocol(protocol).resolve_metric(name)


def scalars(summary: Dict[str, Any]) -> Dict[str, float]:
    """The plain numbers of a protocol summary (nested tables and curves left out)."""
    return {k: float(v) for k, v in summary.items()
            if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)}
