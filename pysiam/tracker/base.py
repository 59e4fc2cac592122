"""Shared machinery of the Siamese trackers: hyper-parameters, state, crop + network + decoding.

The tracker state (centre and size of the target in frame pixels) lives in float64 numpy arrays,
as in pysot, so that results match pysot to the last bit given the same network outputs. The
network runs on ``device``; per frame one transfer brings scores and box deltas to the host.

A step is split into phases so that a batched engine (:mod:`pysiam.runner.batched`) can run
the network for many trackers at once: ``begin_init`` (state + template crop), ``begin_track``
(search crop), ``locate`` (decode the network outputs, update the state) and ``finish`` (the
result dict; SiamMask pastes its mask there). ``init`` / ``track`` chain them for one video.

Frames are BGR uint8 numpy arrays or (H, W, 3) uint8 tensors; with ``device_crop`` (default on
for non-CPU devices, always for tensor frames) the crops are cut with torch on the device
(:mod:`pysiam.tracker.crop_torch`, bit-exact with the OpenCV path).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ..utils.bbox import center_to_xywh, tracker_center
from ..utils.device import DeviceLike, model_device, resolve_device
from .crop import get_subwindow
from .crop_torch import DeviceCropper
from .scoring import (change_penalty, clip_state, context_size, cosine_window, decode_boxes,
                      score_size, tracker_anchors)

__all__ = ["TrackerParams", "SiameseTracker", "network_outputs", "check_image", "check_box"]


@dataclass
class TrackerParams:
    """Test-time hyper-parameters (the TRACK and ANCHOR sections of the config)."""

    exemplar_size: int = 127
    instance_size: int = 255
    base_size: int = 8
    context_amount: float = 0.5
    penalty_k: float = 0.04
    window_influence: float = 0.44
    lr: float = 0.4
    stride: int = 8
    ratios: Sequence[float] = field(default_factory=lambda: [0.33, 0.5, 1, 2, 3])
    scales: Sequence[float] = field(default_factory=lambda: [8])
    lost_instance_size: int = 831
    confidence_low: float = 0.85
    confidence_high: float = 0.998
    mask_threshold: float = 0.30
    mask_output_size: int = 127
    #: crops with torch on the tracker's device: 'auto' (when it is not the CPU), 'on' or 'off'
    device_crop: str = "auto"

    @classmethod
    def from_cfg(cls, cfg) -> "TrackerParams":
        t, a = cfg.TRACK, cfg.ANCHOR
        return cls(exemplar_size=int(t.EXEMPLAR_SIZE), instance_size=int(t.INSTANCE_SIZE),
                   base_size=int(t.BASE_SIZE), context_amount=float(t.CONTEXT_AMOUNT),
                   penalty_k=float(t.PENALTY_K), window_influence=float(t.WINDOW_INFLUENCE),
                   lr=float(t.LR), stride=int(a.STRIDE), ratios=list(a.RATIOS), scales=list(a.SCALES),
                   lost_instance_size=int(t.LOST_INSTANCE_SIZE),
                   confidence_low=float(t.CONFIDENCE_LOW), confidence_high=float(t.CONFIDENCE_HIGH),
                   mask_threshold=float(t.MASK_THERSHOLD), mask_output_size=int(t.MASK_OUTPUT_SIZE),
                   device_crop=_device_crop_setting(cfg))

    @property
    def anchor_num(self) -> int:
        return len(self.ratios) * len(self.scales)


def _device_crop_setting(cfg) -> str:
    node = getattr(cfg, "INFERENCE", None)
    value = "auto" if node is None else node.get("DEVICE_CROP", "auto")
    if isinstance(value, bool):
        value = "on" if value else "off"
    value = str(value).lower()
    if value not in ("auto", "on", "off"):
        raise ValueError(f"INFERENCE.DEVICE_CROP must be 'auto', 'on' or 'off', got {value!r}")
    return value


def _accepts_kwarg(fn, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def check_image(img: Any) -> np.ndarray:
    """A frame must be an H x W x 3 uint8 array (BGR), or such a torch tensor."""
    if isinstance(img, torch.Tensor) and img.dim() == 3 and img.shape[2] == 3 and img.dtype == torch.uint8:
        if img.shape[0] == 0 or img.shape[1] == 0:
            raise ValueError(f"empty image of shape {tuple(img.shape)}")
        return img
    if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        desc = f"{type(img).__name__} {getattr(img, 'shape', '')} {getattr(img, 'dtype', '')}"
        raise ValueError(f"expected a BGR uint8 image of shape H x W x 3, got {desc.strip()}")
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"empty image of shape {img.shape}")
    return img


def check_box(bbox: Sequence[float]) -> Tuple[float, float, float, float]:
    """An initial box must be 4 finite numbers x, y, w, h with w, h > 0."""
    try:
        vals = [float(v) for v in np.asarray(bbox, dtype=np.float64).ravel()]
    except (TypeError, ValueError):
        raise ValueError(f"initial box must be 4 numbers x, y, w, h, got {bbox!r}") from None
    if len(vals) != 4 or not all(np.isfinite(vals)) or vals[2] <= 0 or vals[3] <= 0:
        raise ValueError(f"initial box must be 4 finite numbers x, y, w, h with w, h > 0, got {bbox!r}")
    return vals[0], vals[1], vals[2], vals[3]


class SiameseTracker:
    """Base class: ``init(img, bbox)`` once, then ``track(img)`` per frame.

    ``model`` needs ``template(z)`` and ``track(x) -> {'cls', 'loc', ...}``; it is put in eval
    mode and, when ``device`` is given, moved there (otherwise the model's own device is used).
    """

    def __init__(self, model, params: Optional[TrackerParams] = None, device: DeviceLike = None):
        for attr in ("template", "track"):
            if not callable(getattr(model, attr, None)):
                raise TypeError(f"{type(model).__name__} has no {attr}() method; a tracker needs "
                                f"model.template(z) and model.track(x)")
        self.params = params if params is not None else TrackerParams()
        if device is None or device == "":
            self.device = model_device(model) or torch.device("cpu")
        else:
            self.device = resolve_device(device)
            if callable(getattr(model, "to", None)):
                model.to(self.device)
        if callable(getattr(model, "eval", None)):
            model.eval()
        self.model = model
        self.anchor_num = self.params.anchor_num
        self._grids: Dict[int, Tuple[int, np.ndarray, np.ndarray]] = {}
        self._track_kwargs = {"with_mask": False} if _accepts_kwarg(model.track, "with_mask") else {}
        self.center_pos: Optional[np.ndarray] = None
        self.size: Optional[np.ndarray] = None
        self.channel_average: Optional[np.ndarray] = None
        mode = self.params.device_crop
        use = mode == "on" or (mode == "auto" and self.device.type != "cpu")
        self._cropper: Optional[DeviceCropper] = DeviceCropper(self.device) if use else None
        self._pad: Optional[torch.Tensor] = None

    # -- geometry ------------------------------------------------------------------------------
    def grid(self, instance_size: int) -> Tuple[int, np.ndarray, np.ndarray]:
        """(score size, anchors (N, 4) float32, cosine window (N,) float64) for a search size."""
        if instance_size not in self._grids:
            p = self.params
            size = score_size(instance_size, p.exemplar_size, p.stride, p.base_size)
            if size < 1:
                raise ValueError(f"search size {instance_size} gives an empty score map "
                                 f"(TRACK.EXEMPLAR_SIZE {p.exemplar_size}, BASE_SIZE {p.base_size})")
            self._grids[instance_size] = (size, tracker_anchors(p.stride, p.ratios, p.scales, size),
                                          cosine_window(size, self.anchor_num))
        return self._grids[instance_size]

    @property
    def network_kwargs(self) -> Dict[str, Any]:
        """Keyword arguments this tracker passes to the model's search pass (``with_mask``)."""
        return dict(self._track_kwargs)

    @property
    def score_size(self) -> int:
        return self.grid(self.params.instance_size)[0]

    # -- init ----------------------------------------------------------------------------------
    def init(self, img: np.ndarray, bbox: Sequence[float]) -> None:
        """Start tracking the target ``bbox`` = [x, y, w, h] (0-based) in the BGR frame ``img``."""
        z = self.begin_init(img, bbox)
        with torch.no_grad():
            self.model.template(z)

    def begin_init(self, img: np.ndarray, bbox: Sequence[float]) -> torch.Tensor:
        """Set the state from ``bbox`` and return the template crop (1, 3, E, E) for the network."""
        img = check_image(img)
        box = check_box(bbox)
        self.center_pos = np.array(tracker_center(box), dtype=np.float64)
        self.size = np.array(box[2:], dtype=np.float64)
        s_z = round(context_size(self.size, self.params.context_amount))
        if isinstance(img, torch.Tensor) and self._cropper is None:
            self._cropper = DeviceCropper(self.device)
        if self._cropper is not None:
            self.channel_average = self._cropper.mean(img)
            self._pad = torch.as_tensor(self.channel_average.astype(np.uint8)).to(self.device)
        else:
            self.channel_average = np.mean(img, axis=(0, 1))
        z = self._crop(img, self.center_pos, self.params.exemplar_size, max(s_z, 1))
        self._on_init()
        return z

    def _crop(self, img, center, out_size: int, crop_size: int) -> torch.Tensor:
        """(1, 3, out, out) float32 crop on the tracker's device (OpenCV or torch path)."""
        if self._cropper is not None:
            return self._cropper.crop(img, center, out_size, crop_size, self._pad)
        return get_subwindow(img, center, out_size, crop_size, self.channel_average, self.device)

    def _on_init(self) -> None:
        """Hook for subclasses (reset per-sequence state)."""

    # -- one search step ---------------------------------------------------------------------
    def _network_outputs(self, out: Dict[str, Any], size: int) -> Tuple[np.ndarray, np.ndarray]:
        """Foreground probability (N,) and deltas (4, N), float32 on the host, in one transfer."""
        score, loc = network_outputs(out["cls"], out["loc"], self.anchor_num, size)
        return score[0], loc[0]

    def _instance_size(self) -> int:
        """Search size of the next frame."""
        return self.params.instance_size

    def begin_track(self, img: np.ndarray) -> Dict[str, Any]:
        """Search crop for the next frame: a request dict whose ``x`` (1, 3, S, S) goes to the
        network; pass the request back to :meth:`locate`."""
        img = check_image(img)
        return self._search_begin(img, self._instance_size())

    def _search_begin(self, img, instance_size: int) -> Dict[str, Any]:
        if self.center_pos is None:
            raise RuntimeError("call tracker.init(img, bbox) before tracker.track(img)")
        p = self.params
        s_z = context_size(self.size, p.context_amount)
        scale_z = p.exemplar_size / s_z
        s_x = s_z * (instance_size / p.exemplar_size)
        crop = round(s_x)
        x = self._crop(img, self.center_pos, instance_size, max(crop, 1))
        return {"x": x, "instance_size": instance_size, "scale_z": scale_z, "crop_size": crop,
                "center": (float(self.center_pos[0]), float(self.center_pos[1]))}

    def _search_end(self, req: Dict[str, Any], score: np.ndarray, loc: np.ndarray,
                    outputs: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        size, anchors, window = self.grid(req["instance_size"])
        with np.errstate(over="ignore"):  # untrained weights can give huge dw, dh
            boxes = decode_boxes(loc, anchors)
        return {"score": score, "boxes": boxes, "scale_z": req["scale_z"],
                "crop_size": req["crop_size"], "window": window, "size": size, "outputs": outputs}

    def _search(self, img: np.ndarray, instance_size: int) -> Dict[str, Any]:
        """Crop the search region around the current state, run the network, decode the boxes."""
        req = self._search_begin(img, instance_size)
        with torch.no_grad():
            out = self.model.track(req["x"], **self._track_kwargs)
        score, loc = self._network_outputs(out, self.grid(instance_size)[0])
        return self._search_end(req, score, loc, out)

    def locate(self, img, req: Dict[str, Any], score: np.ndarray, loc: np.ndarray,
               outputs: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:  # pragma: no cover
        """Decode host scores (N,) / deltas (4, N) of a :meth:`begin_track` request and update
        the state; returns what :meth:`finish` needs."""
        raise NotImplementedError

    def finish(self, img, req: Dict[str, Any], located: Dict[str, Any],
               mask_logits: Optional[torch.Tensor] = None) -> Dict[str, Any]:
        """The frame's result dict (``bbox``, ``best_score``, ...)."""
        return {"bbox": self._box(*self.center_pos, *self.size), "best_score": located["score"]}

    #: whether :meth:`finish` wants refined mask logits at ``located['pos']`` (SiamMask)
    needs_refine = False

    def track(self, img: np.ndarray) -> Dict[str, Any]:
        """Locate the target in the next frame (BGR uint8) and update the state."""
        req = self.begin_track(img)
        with torch.no_grad():
            out = self.model.track(req["x"], **self._track_kwargs)
        score, loc = self._network_outputs(out, self.grid(req["instance_size"])[0])
        located = self.locate(img, req, score, loc, out)
        return self.finish(img, req, located)

    def _select(self, s: Dict[str, Any], window_influence: float) -> Tuple[int, np.ndarray]:
        """Index of the best candidate after size/aspect penalty and cosine window, and the penalty."""
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            penalty = change_penalty(s["boxes"], self.size, s["scale_z"], self.params.penalty_k)
        pscore = penalty * s["score"]
        pscore = pscore * (1 - window_influence) + s["window"] * window_influence
        return int(np.argmax(pscore)), penalty

    def _proposal(self, s: Dict[str, Any], best: int, penalty: np.ndarray):
        """Candidate centre and smoothed size (frame pixels, unclipped) and its score."""
        box = s["boxes"][:, best].astype(np.float64) / s["scale_z"]
        score = float(s["score"][best])
        lr = float(penalty[best]) * score * self.params.lr
        cx = box[0] + self.center_pos[0]
        cy = box[1] + self.center_pos[1]
        width = self.size[0] * (1 - lr) + box[2] * lr
        height = self.size[1] * (1 - lr) + box[3] * lr
        return cx, cy, width, height, score

    def _set_state(self, cx: float, cy: float, width: float, height: float) -> None:
        self.center_pos = np.array([cx, cy], dtype=np.float64)
        self.size = np.array([width, height], dtype=np.float64)

    @staticmethod
    def _clip(img: np.ndarray, cx, cy, width, height):
        return clip_state(cx, cy, width, height, img.shape[1], img.shape[0])

    @staticmethod
    def _box(cx: float, cy: float, width: float, height: float) -> List[float]:
        return [float(v) for v in center_to_xywh((cx, cy), (width, height))]



def network_outputs(cls: torch.Tensor, loc: torch.Tensor, anchor_num: int,
                    size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Foreground probabilities (B, N) and deltas (B, 4, N) of a batch of head outputs, float32
    on the host, in one device-to-host transfer (N = anchor_num * size * size, anchor-major)."""
    a = anchor_num
    b = cls.shape[0]
    want_cls, want_loc = (b, 2 * a, size, size), (b, 4 * a, size, size)
    if b < 1 or tuple(cls.shape) != want_cls or tuple(loc.shape) != want_loc:
        raise ValueError(
            f"model outputs cls {tuple(cls.shape)}, loc {tuple(loc.shape)}; the tracker expects "
            f"{want_cls} and {want_loc} from TRACK.INSTANCE_SIZE/EXEMPLAR_SIZE/BASE_SIZE, "
            f"ANCHOR.STRIDE and {a} anchors: check that the config matches the model")
    score = F.softmax(cls.float().reshape(b, 2, -1).permute(0, 2, 1), dim=2)[:, :, 1]
    n = score.shape[1]
    flat = torch.cat([score, loc.float().reshape(b, -1)], dim=1).cpu().numpy()
    return flat[:, :n], flat[:, n:].reshape(b, 4, n)
