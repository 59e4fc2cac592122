"""One search step for a group of trackers that share a model: one network pass, one decode.

Used by the batched engine (many videos in lockstep) and by :class:`pysiam.runner.multi.MultiTracker`
(many targets of one video). Every tracker of the group has made its search request
(``begin_track``) with the same search size; the template batch holds their templates in order.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import torch

__all__ = ["track_group"]


def _sample(out: Dict[str, Any], j: int) -> Dict[str, Any]:
    """Sample ``j`` of a batch of outputs (the per-sample maps a tracker's ``locate`` may read)."""
    return {k: (v[j:j + 1] if isinstance(v, torch.Tensor) else v)
            for k, v in out.items() if k in ("cls", "loc", "mask")}


def track_group(model, trackers: Sequence[Any], imgs: Sequence[Any], searches: Sequence[Dict[str, Any]],
                template: Any) -> List[Dict[str, Any]]:
    """Run ``model.track_with`` once on the stacked search crops, decode them in one transfer,
    let every tracker update its state, refine SiamMask masks in one call; the per-tracker
    result dicts, in order."""
    first = trackers[0]
    xs = [s["x"] for s in searches]
    with torch.no_grad():
        out = model.track_with(template, torch.cat(xs) if len(xs) > 1 else xs[0], **first.network_kwargs)
    scores, boxes = first.decode(out)
    located = [t.locate(img, req, scores[j], boxes[j], _sample(out, j))
               for j, (t, img, req) in enumerate(zip(trackers, imgs, searches))]
    logits: List[Optional[torch.Tensor]] = [None] * len(trackers)
    if first.needs_refine:
        pos = torch.tensor([loc["pos"] for loc in located], dtype=torch.long).to(first.device)
        with torch.no_grad():
            logits = list(model.refine_with(out, pos).float().cpu())
    return [t.finish(img, req, loc, lg) for t, img, req, loc, lg in zip(trackers, imgs, searches, located, logits)]
