"""Many targets of one video, one batched network pass per frame.

    multi = MultiTracker(cfg, model)             # or MultiTracker(make_tracker)
    multi.init(frame, [box_a, box_b, box_c])     # one extract_template for all crops
    k = multi.add(frame, box_d)                  # a target that appears later
    results = multi.track(next_frame)            # [{'bbox': ..., 'best_score': ...}, ...], in target order
    multi.remove(0)

Each target has its own tracker (its state and template) around the one shared model. Per
frame every tracker cuts its search crop, the crops of equal search size (all of them, except
long-term trackers in the lost state) go through ``track_with`` as one batch against their
concatenated templates (cached while the set of targets is the same), are decoded in one host
transfer and SiamMask's refine module runs once for all (:func:`pysiam.runner.group.track_group`).
Results equal independent trackers up to float rounding of the batched convolutions. A tracker
without the phased API (``begin_init`` / ``begin_track`` / ``locate`` / ``finish``, e.g. a
wrapper around another library) is run on its own with ``init`` / ``track``.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

import torch

from pysiam.models.siam_model import cat_templates

from .group import track_group

__all__ = ["MultiTracker"]

_PHASES = ("begin_init", "begin_track", "locate", "finish")


def _batchable(tracker: Any) -> bool:
    """Whether ``tracker`` has the phased API and a functional model (see the module doc)."""
    model = getattr(tracker, "model", None)
    return all(callable(getattr(tracker, k, None)) for k in _PHASES) and callable(
        getattr(model, "extract_template", None)) and callable(getattr(model, "track_with", None))


class MultiTracker:
    """N targets of one video tracked with one network pass per frame (see the module doc).

    ``cfg_or_factory`` is a config (trackers from :func:`pysiam.tracker.build_tracker` around
    ``model``) or a no-argument callable returning a new tracker (all around the same model;
    ``model`` may then be omitted). Targets are indexed in the order they were added.
    """

    def __init__(self, cfg_or_factory: Any, model: Any = None, device: Any = None):
        if callable(cfg_or_factory) and not hasattr(cfg_or_factory, "TRACK"):
            self._factory: Callable[[], Any] = cfg_or_factory
        else:
            if model is None:
                raise ValueError("MultiTracker(cfg, model): a config needs the model to build trackers around")
            from pysiam.tracker import build_tracker

            cfg = cfg_or_factory
            self._factory = lambda: build_tracker(cfg, model, device=device)
        self.model = model
        self.trackers: List[Any] = []
        self._versions: Dict[int, int] = {}
        self._counter = 0
        self._cache: Dict[Any, Any] = {}

    def __len__(self) -> int:
        return len(self.trackers)

    # -- the set of targets ------------------------------------------------------------------
    def _new_tracker(self) -> Any:
        tracker = self._factory()
        if not _batchable(tracker):
            return tracker
        if self.model is None:
            self.model = tracker.model
        elif tracker.model is not self.model:
            raise ValueError("MultiTracker: the tracker factory must build every tracker around the same model")
        return tracker

    def init(self, img, boxes: Sequence[Sequence[float]]) -> None:
        """Drop all targets and start one per box [x, y, w, h] in ``img``."""
        self.trackers = []
        self._versions = {}
        self._cache = {}
        self.add_many(img, boxes)

    def add_many(self, img, boxes: Sequence[Sequence[float]]) -> List[int]:
        """Start targets for ``boxes`` in ``img`` (one template pass for all); their indices."""
        boxes = list(boxes)
        if not boxes:
            return []
        new = [self._new_tracker() for _ in boxes]
        zs = []
        for k, (tracker, box) in enumerate(zip(new, boxes)):
            try:
                if _batchable(tracker):
                    zs.append(tracker.begin_init(img, box))
                else:
                    tracker.init(img, box)
            except ValueError as e:
                raise ValueError(f"target {len(self.trackers) + k}: {e}") from None
        template = None
        if zs:
            with torch.no_grad():
                template = self.model.extract_template(torch.cat(zs) if len(zs) > 1 else zs[0])
        first, j = len(self.trackers), 0
        for tracker in new:
            if _batchable(tracker):
                tracker.template = template.index(j) if len(zs) > 1 else template
                j += 1
            self._counter += 1
            self._versions[id(tracker)] = self._counter
            self.trackers.append(tracker)
        return list(range(first, len(self.trackers)))

    def add(self, img, box: Sequence[float]) -> int:
        """Start one more target at ``box`` in ``img``; its index."""
        return self.add_many(img, [box])[0]

    def remove(self, i: int) -> None:
        """Stop tracking target ``i`` (the later targets' indices shift down by one)."""
        if not -len(self.trackers) <= i < len(self.trackers):
            raise IndexError(f"no target {i}: {len(self.trackers)} target(s)")
        tracker = self.trackers.pop(i)
        self._versions.pop(id(tracker), None)

    # -- tracking ----------------------------------------------------------------------------
    def _stacked_template(self, group: List[Any]) -> Any:
        """The group's templates concatenated, cached per set of targets (a few sets: the
        long-term trackers' two search sizes may split the targets in two groups)."""
        key = tuple((id(t), self._versions[id(t)]) for t in group)
        if key not in self._cache:
            if len(self._cache) >= 8:
                self._cache.clear()
            self._cache[key] = cat_templates([t.template for t in group])
        return self._cache[key]

    def track(self, img) -> List[Dict[str, Any]]:
        """Locate every target in the next frame; one result dict per target, in target order."""
        results: List[Optional[Dict[str, Any]]] = [None] * len(self.trackers)
        searches: Dict[int, Dict[str, Any]] = {}
        groups: Dict[int, List[int]] = {}
        for i, t in enumerate(self.trackers):
            if not _batchable(t):
                results[i] = t.track(img)
                continue
            searches[i] = t.begin_track(img)
            groups.setdefault(int(searches[i]["instance_size"]), []).append(i)
        for idx in groups.values():
            group = [self.trackers[i] for i in idx]
            out = track_group(self.model, group, [img] * len(idx), [searches[i] for i in idx],
                              self._stacked_template(group))
            for j, i in enumerate(idx):
                results[i] = out[j]
        return results  # type: ignore[return-value]

    @property
    def boxes(self) -> List[List[float]]:
        """The current [x, y, w, h] of every target (its state, before clipping for display;
        None for a tracker without pysiam's ``center_pos`` / ``size`` state)."""
        return [t._box(*t.center_pos, *t.size) if getattr(t, "center_pos", None) is not None else None
                for t in self.trackers]
