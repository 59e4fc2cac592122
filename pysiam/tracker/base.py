"""Shared machinery of the Siamese trackers: state, crops, the network call and the decoding.

A tracker owns everything per video: the target state (centre and size in frame pixels,
float64 numpy arrays ``center_pos`` / ``size``, as in pysot, so a caller may set them before
``track()``), the padding colour and its own :class:`~pysiam.models.Template`. The model is
stateless and may be shared by any number of trackers; the head family
(:mod:`pysiam.families`) turns the network outputs into scores and boxes.

A step is split into phases so that a batched engine (:mod:`pysiam.runner.batched`) can run
the network for many trackers at once: ``begin_init`` (state + template crop),
``begin_track`` (search crop), ``locate`` (decoded scores and boxes -> new state) and
``finish`` (the result dict; SiamMask pastes its mask there). ``init`` / ``track`` chain them.

Frames are BGR uint8 numpy arrays or (H, W, 3) uint8 tensors; with ``device_crop`` (default on
for non-CPU devices, always for tensor frames) the crops are cut with torch on the device
(:mod:`pysiam.tracker.crop_torch`, bit-exact with the OpenCV path).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Protocol, Sequence, Tuple, runtime_checkable

import numpy as np
import torch

from ..families import AnchorFamily, Grid, HeadFamily
from ..utils.bbox import center_to_xywh, tracker_center
from ..utils.device import DeviceLike, model_device, resolve_device
from .checks import check_box, check_image, check_init_box
from .crop import get_subwindow
from .crop_torch import DeviceCropper
from .params import TrackerParams
from .scoring import change_penalty, clip_state, context_size

__all__ = ["SiameseNetwork", "SiameseTracker", "TrackerParams", "check_image", "check_box"]


@runtime_checkable
class SiameseNetwork(Protocol):
    """What a tracker needs of a network (a SiamModel, an InferenceModel, an ONNX Runtime model)."""

    def extract_template(self, z: torch.Tensor) -> Any: ...

    def track_with(self, template: Any, x: torch.Tensor, with_mask: bool = True) -> Dict[str, Any]: ...


class SiameseTracker:
    """Base class: ``init(img, bbox)`` once, then ``track(img)`` per frame (see the module doc).

    ``model`` is put in eval mode and, when ``device`` is given, moved there (otherwise the
    model's own device is used); ``family`` decodes its outputs (default: pysot's anchors).
    """

    #: whether :meth:`finish` wants refined mask logits at ``located['pos']`` (SiamMask)
    needs_refine = False

    def __init__(self, model: SiameseNetwork, params: Optional[TrackerParams] = None,
                 family: Optional[HeadFamily] = None, device: DeviceLike = None):
        if not isinstance(model, SiameseNetwork):
            raise TypeError(f"{type(model).__name__} has no extract_template(z) / track_with(t, x): "
                            f"a tracker needs a functional Siamese network")
        self.params = params if params is not None else TrackerParams()
        self.family = family if family is not None else AnchorFamily(
            exemplar_size=self.params.exemplar_size, base_size=self.params.base_size)
        if device is None or device == "":
            self.device = model_device(model) or torch.device("cpu")
        else:
            self.device = resolve_device(device)
            if callable(getattr(model, "to", None)):
                model.to(self.device)
        if callable(getattr(model, "eval", None)):
            model.eval()
        self.model = model
        self.template: Any = None
        self.center_pos: Optional[np.ndarray] = None
        self.size: Optional[np.ndarray] = None
        self.channel_average: Optional[np.ndarray] = None
        mode = self.params.device_crop
        use = mode == "on" or (mode == "auto" and self.device.type != "cpu")
        self._cropper: Optional[DeviceCropper] = DeviceCropper(self.device) if use else None
        self._pad: Optional[torch.Tensor] = None

    # -- geometry ------------------------------------------------------------------------------
    def grid(self, instance_size: int) -> Grid:
        """Priors and window of the score map of a search crop of ``instance_size``."""
        size = self.family.score_size(instance_size)
        if size < 1:
            p = self.params
            raise ValueError(f"search size {instance_size} gives an empty score map "
                             f"(TRACK.EXEMPLAR_SIZE {p.exemplar_size}, BASE_SIZE {p.base_size})")
        return self.family.grid(size)

    @property
    def network_kwargs(self) -> Dict[str, Any]:
        """Keyword arguments this tracker passes to the model's search pass."""
        return {"with_mask": False}

    @property
    def score_size(self) -> int:
        return self.grid(self.params.instance_size).size

    # -- init ----------------------------------------------------------------------------------
    def init(self, img: np.ndarray, bbox: Sequence[float]) -> None:
        """Start tracking the target ``bbox`` = [x, y, w, h] (0-based) in the BGR frame ``img``."""
        z = self.begin_init(img, bbox)
        with torch.no_grad():
            self.template = self.model.extract_template(z)

    def begin_init(self, img: np.ndarray, bbox: Sequence[float]) -> torch.Tensor:
        """Set the state from ``bbox`` and return the template crop (1, 3, E, E) for the network
        (the caller stores the template it computes from it in :attr:`template`)."""
        img = check_image(img)
        box = check_init_box(check_box(bbox), (img.shape[1], img.shape[0]))
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
    def _instance_size(self) -> int:
        """Search size of the next frame."""
        return self.params.instance_size

    def begin_track(self, img: np.ndarray) -> Dict[str, Any]:
        """Search crop for the next frame: a request dict whose ``x`` (1, 3, S, S) goes to the
        network; pass the request back to :meth:`locate`."""
        img = check_image(img)
        if self.center_pos is None or self.template is None:
            raise RuntimeError("call tracker.init(img, bbox) before tracker.track(img)")
        p = self.params
        instance_size = self._instance_size()
        s_z = context_size(self.size, p.context_amount)
        scale_z = p.exemplar_size / s_z
        crop = round(s_z * (instance_size / p.exemplar_size))
        x = self._crop(img, self.center_pos, instance_size, max(crop, 1))
        return {"x": x, "instance_size": instance_size, "scale_z": scale_z, "crop_size": crop,
                "center": (float(self.center_pos[0]), float(self.center_pos[1]))}

    def decode(self, out: Dict[str, Any]) -> Tuple[np.ndarray, np.ndarray]:
        """Scores (B, N) and boxes (B, 4, N) on the host from a batch of network outputs."""
        return self.family.decode(out["cls"], out["loc"])

    def _search_end(self, req: Dict[str, Any], score: np.ndarray, boxes: np.ndarray,
                    outputs: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        grid = self.grid(req["instance_size"])
        if score.shape[-1] != grid.count:
            raise ValueError(f"the model gives {score.shape[-1]} candidates for a {req['instance_size']} search "
                             f"crop; the config expects a {grid.size}x{grid.size} score map with "
                             f"{self.family.priors_per_cell} prior(s) per cell (TRACK.INSTANCE_SIZE / "
                             f"EXEMPLAR_SIZE / BASE_SIZE, the anchors or points): check that the config matches the model")
        return {"score": score, "boxes": boxes, "scale_z": req["scale_z"], "crop_size": req["crop_size"],
                "window": grid.window, "size": grid.size, "outputs": outputs}

    def locate(self, img, req: Dict[str, Any], score: np.ndarray, boxes: np.ndarray,
               outputs: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:  # pragma: no cover
        """Take the decoded scores (N,) / boxes (4, N) of a :meth:`begin_track` request and update
        the state; returns what :meth:`finish` needs."""
        raise NotImplementedError

    def finish(self, img, req: Dict[str, Any], located: Dict[str, Any],
               mask_logits: Optional[torch.Tensor] = None) -> Dict[str, Any]:
        """The frame's result dict (``bbox``, ``best_score``, ``best_idx``, ...)."""
        return {"bbox": self._box(*self.center_pos, *self.size), "best_score": located["score"],
                "best_idx": located["best"]}

    def track(self, img: np.ndarray) -> Dict[str, Any]:
        """Locate the target in the next frame (BGR uint8) and update the state."""
        req = self.begin_track(img)
        with torch.no_grad():
            out = self.model.track_with(self.template, req["x"], **self.network_kwargs)
        score, boxes = self.decode(out)
        located = self.locate(img, req, score[0], boxes[0], out)
        return self.finish(img, req, located)

    # -- pysot's selection and update --------------------------------------------------------
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
