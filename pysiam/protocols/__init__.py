"""Evaluation protocols as objects, one per protocol, looked up once from the dataset.

    protocol = get_protocol(dataset.protocol)       # 'ope', 'vot', 'vot-lt', 'got10k', 'davis'
    result = protocol.run(make_tracker, video, RunOptions.from_config(cfg))
    protocol.write(result, video, Where(output, dataset.name, tracker_name))
    stats = protocol.score(video, protocol.scorable(result))   # == score(video, read(where, video))
    numbers = protocol.summarize({video.name: stats}, dataset, ScoreOptions())

A new protocol is one module with a :class:`Protocol` subclass, registered with
:func:`register_protocol`.
"""
from __future__ import annotations

from typing import Dict

from .base import Column, Protocol, RunOptions, ScoreOptions, Where
from .davis import DAVISProtocol, run_vos
from .got10k import GOT10kProtocol
from .longterm import LongTermProtocol
from .metrics import METRIC_ALIASES, resolve_metric
from .ope import OPEProtocol, ope_job
from .steps import Init, Job, OPEResult, Track, VOSResult, VOTResult, counted, drive
from .vot import VOTProtocol, vot_arrays, vot_job, vot_region

__all__ = ["PROTOCOLS", "get_protocol", "register_protocol", "Protocol", "RunOptions", "ScoreOptions",
           "Where", "Column", "Init", "Track", "Job", "drive", "counted", "OPEResult", "VOTResult",
           "VOSResult", "ope_job", "vot_job", "vot_region", "vot_arrays", "run_vos", "METRIC_ALIASES",
           "resolve_metric"]

#: protocol name -> the protocol object
PROTOCOLS: Dict[str, Protocol] = {}


def register_protocol(protocol: Protocol) -> Protocol:
    """Add ``protocol`` to :data:`PROTOCOLS` under its name."""
    PROTOCOLS[protocol.name] = protocol
    return protocol


for _p in (OPEProtocol(), VOTProtocol(), LongTermProtocol(), GOT10kProtocol(), DAVISProtocol()):
    register_protocol(_p)

from pysiam.vot.protocol import MultistartProtocol  # noqa: E402  (its module builds on .base)

register_protocol(MultistartProtocol())


def get_protocol(name: str) -> Protocol:
    """The protocol object of a dataset's protocol name."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise KeyError(f"unknown protocol {name!r}; known: {', '.join(sorted(PROTOCOLS))}") from None
