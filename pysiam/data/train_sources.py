"""Where training pairs come from: pysot's pre-cropped ``crop511`` + ``train.json`` layout, or
synthetic videos generated in memory and cropped on the fly.

A source hands out lightweight references to targets (``(video, track, frame)``) and loads a
reference as a :class:`TargetPatch`: a square patch with the target centred at exemplar scale
(the target's context square ``s_z`` spans ``exemplar_size`` pixels), its box in patch pixels and,
when the source has them, its mask. Pair sampling (:meth:`PairSource.positive_pair`) follows
pysot: a random track of the video, a random template frame and a search frame within
``frame_range`` positions of it in the track's sorted frame list.

Sources are looked up by the ``TYPE`` of their ``DATASET.<NAME>`` section in :data:`SOURCE_TYPES`
(``crop511`` when the section has no ``TYPE``, as pysot's sections do).
"""
from __future__ import annotations

import json
import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = ["TargetPatch", "TargetRef", "PairSource", "Crop511Source", "SyntheticSource",
           "SOURCE_TYPES", "build_source", "box_in_patch", "DatasetError"]

#: (video index, track index, frame position in the track's sorted frame list)
TargetRef = Tuple[int, int, int]

CROP511_EXEMPLAR = 127  # pysot's crops put the exemplar-sized context square at 127 pixels


class DatasetError(ValueError):
    """A training source that cannot be read; the message names the file or config key."""


@dataclass
class TargetPatch:
    """A target-centred square patch with the target at exemplar scale, possibly virtual.

    ``image`` holds the source pixels (HxWx3 uint8 BGR): the patch itself (pysot's crops), or a
    whole frame that the patch is a view of; patch pixel ``p`` sits at ``origin + scale * p`` in
    ``image``, so an augmentation crop resamples the frame once. ``box`` (x1, y1, x2, y2) and
    ``size`` (h, w) are in patch pixels; ``border`` fills what lies outside ``image``.
    """

    image: np.ndarray
    box: np.ndarray
    size: Tuple[int, int]
    scale: float = 1.0
    origin: Tuple[float, float] = (0.0, 0.0)
    border: Tuple[float, ...] = (0.0, 0.0, 0.0)
    mask: Optional[np.ndarray] = None  # float32 in [0, 1] or uint8 0/1, same geometry as ``image``


def box_in_patch(box: Sequence[float], patch_hw: Tuple[int, int], exemplar_size: int,
                 context_amount: float = 0.5) -> np.ndarray:
    """pysot's box of a pre-cropped patch: the original box's size scaled by ``exemplar / s_z``,
    centred on pixel ``(W // 2, H // 2)``. ``box`` is ``(x1, y1, x2, y2)`` or ``(w, h)``."""
    if len(box) == 4:
        w, h = box[2] - box[0], box[3] - box[1]
    else:
        w, h = box
    ctx = context_amount * (w + h)
    scale = exemplar_size / math.sqrt((w + ctx) * (h + ctx))
    w, h = w * scale, h * scale
    cx, cy = patch_hw[1] // 2, patch_hw[0] // 2
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dtype=np.float64)


class PairSource:
    """Videos of tracks of frames. Subclasses fill ``self.tracks`` and implement :meth:`load`.

    ``self.tracks[v]`` lists, per track of video ``v``, whatever :meth:`load` needs; the sampler
    only uses :meth:`track_length`.
    """

    name: str = ""
    has_masks: bool = False

    def __init__(self, name: str, frame_range: int, num_use: int):
        self.name = name
        self.frame_range = int(frame_range)
        self.num_use_cfg = int(num_use)
        self.tracks: List[list] = []

    def __len__(self) -> int:
        return len(self.tracks)

    @property
    def num_use(self) -> int:
        """Videos drawn per epoch (all of them once for -1)."""
        return len(self) if self.num_use_cfg == -1 else self.num_use_cfg

    def track_length(self, video: int, track: int) -> int:
        raise NotImplementedError

    def positive_pair(self, video: int, rng: np.random.Generator) -> Tuple[TargetRef, TargetRef]:
        """Template and search references from one track, at most ``frame_range`` positions apart."""
        track = int(rng.integers(len(self.tracks[video])))
        n = self.track_length(video, track)
        t = int(rng.integers(n))
        lo, hi = max(t - self.frame_range, 0), min(t + self.frame_range, n - 1)
        s = int(rng.integers(lo, hi + 1))
        return (video, track, t), (video, track, s)

    def random_target(self, rng: np.random.Generator, video: Optional[int] = None) -> TargetRef:
        """A random frame of a random track of ``video`` (of a random video when None)."""
        if video is None:
            video = int(rng.integers(len(self)))
        track = int(rng.integers(len(self.tracks[video])))
        return video, track, int(rng.integers(self.track_length(video, track)))

    def load(self, ref: TargetRef, with_mask: bool = False) -> TargetPatch:
        raise NotImplementedError


# ------------------------------------------------------------------------------------------------
# pysot's crop511 layout
# ------------------------------------------------------------------------------------------------
def _valid_box(box) -> bool:
    if isinstance(box, dict) or not isinstance(box, (list, tuple)):
        return False
    if len(box) == 4:
        w, h = box[2] - box[0], box[3] - box[1]
    elif len(box) == 2:
        w, h = box
    else:
        return False
    return w > 0 and h > 0


class Crop511Source(PairSource):
    """pysot's pre-cropped data: ``ROOT/<video>/<frame:06d>.<track>.x.jpg`` (+ ``.m.png`` masks)
    indexed by ``ANNO`` = ``{video: {track: {frame "%06d": [x1, y1, x2, y2] or [w, h]}}}``.

    Boxes with non-positive size are dropped, then tracks and videos left without frames.
    When ``exemplar_size`` differs from the 127 of the crops, patches are resized to match.
    Masks are used when the first target's ``.m.png`` exists.
    """

    def __init__(self, name: str, root: str, anno: str, frame_range: int, num_use: int,
                 exemplar_size: int = 127, crop_exemplar: int = CROP511_EXEMPLAR):
        super().__init__(name, frame_range, num_use)
        self.root = Path(root)
        self.anno = Path(anno)
        self.exemplar_size = int(exemplar_size)
        self.resize = self.exemplar_size / float(crop_exemplar)
        try:
            with open(self.anno) as f:
                meta = json.load(f)
        except FileNotFoundError:
            raise DatasetError(f"{name}: annotation file not found: {self.anno} "
                               f"(set DATASET.{name}.ANNO, or prepare the data first)") from None
        except (OSError, json.JSONDecodeError) as e:
            raise DatasetError(f"{name}: cannot read annotation file {self.anno}: {e}") from None
        if not isinstance(meta, dict):
            raise DatasetError(f"{self.anno}: expected {{video: {{track: {{frame: box}}}}}}, "
                               f"got {type(meta).__name__}")
        self.videos: List[str] = []
        for video, tracks in meta.items():
            if not isinstance(tracks, dict):
                raise DatasetError(f"{self.anno}: video {video!r} must map track ids to frames")
            kept = []
            for track, frames in tracks.items():
                if not isinstance(frames, dict):
                    raise DatasetError(f"{self.anno}: {video}/{track} must map frame ids to boxes")
                items = sorted((int(k), v) for k, v in frames.items() if k.isdigit() and _valid_box(v))
                if items:
                    kept.append((str(track), [i for i, _ in items], [v for _, v in items]))
            if kept:
                self.videos.append(str(video))
                self.tracks.append(kept)
        if not self.tracks:
            raise DatasetError(f"{self.anno}: no video with a valid box")
        self.has_masks = self._mask_path((0, 0, 0)).is_file()

    @classmethod
    def from_config(cls, name: str, node, cfg) -> "Crop511Source":
        return cls(name, node.ROOT, node.ANNO, node.FRAME_RANGE, node.NUM_USE, cfg.TRAIN.EXEMPLAR_SIZE)

    def track_length(self, video: int, track: int) -> int:
        return len(self.tracks[video][track][1])

    def _stem(self, ref: TargetRef) -> Path:
        video, track, pos = ref
        tid, frames, _ = self.tracks[video][track]
        return self.root / self.videos[video] / f"{frames[pos]:06d}.{tid}"

    def _mask_path(self, ref: TargetRef) -> Path:
        return self._stem(ref).with_name(self._stem(ref).name + ".m.png")

    def load(self, ref: TargetRef, with_mask: bool = False) -> TargetPatch:
        path = self._stem(ref).with_name(self._stem(ref).name + ".x.jpg")
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise DatasetError(f"{self.name}: cannot read image {path}")
        mask = None
        if with_mask and self.has_masks:
            m = cv2.imread(str(self._mask_path(ref)), cv2.IMREAD_GRAYSCALE)
            if m is None:
                raise DatasetError(f"{self.name}: cannot read mask {self._mask_path(ref)}")
            mask = (m > 0).astype(np.uint8)
        # a crop made for a 127 exemplar, viewed at ``exemplar_size`` (no resampling when equal)
        size = tuple(int(round(v * self.resize)) for v in image.shape[:2])
        video, track, pos = ref
        box = box_in_patch(self.tracks[video][track][2][pos], size, self.exemplar_size)
        return TargetPatch(image, box, size, scale=1.0 / self.resize, mask=mask)


# ------------------------------------------------------------------------------------------------
# synthetic videos, in memory
# ------------------------------------------------------------------------------------------------
def _encoded_video(index: int, params) -> Tuple[List[bytes], List[bytes], np.ndarray]:
    """Generate one synthetic video; frames as JPEG (quality 95, like the benchmark on disk), masks as PNG."""
    from .synthetic import generate_video
    cv2.setNumThreads(1)
    v = generate_video(index, params)
    frames = [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes() for f in v.frames]
    masks = [cv2.imencode(".png", m)[1].tobytes() for m in v.masks]
    return frames, masks, np.asarray(v.boxes, dtype=np.float64)


_LAST_GENERATED: Dict[tuple, list] = {}   # the last generated set, reused by the next source asking for it


def _generate(params, first_index: int, num_videos: int, workers: int) -> list:
    """Encoded videos ``first_index ..`` of ``params``; the last set is kept for reuse in this process."""
    key = (params, first_index, num_videos)
    if key in _LAST_GENERATED:
        return _LAST_GENERATED[key]
    indices = list(range(first_index, first_index + num_videos))
    if workers > 1 and num_videos > 1:
        # fork (like DataLoader workers): scripts need no __main__ guard; the generator is numpy/OpenCV.
        method = "fork" if "fork" in get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context(method)) as pool:
            videos = list(pool.map(_encoded_video, indices, [params] * len(indices)))
    else:
        videos = [_encoded_video(i, params) for i in indices]
    _LAST_GENERATED.clear()
    _LAST_GENERATED[key] = videos
    return videos


class SyntheticSource(PairSource):
    """Videos of :mod:`pysiam.data.synthetic`, kept JPEG-compressed in memory, one track each.

    A target is seen through the geometry of pysot's pre-cropping (context square ``s_z`` scaled
    to ``exemplar_size``, a ``patch_size`` patch, mean-padded: :mod:`pysiam.data.prepare.crop`),
    so the pair pipeline is the crop511 one, but the augmentation resamples the frame only once.
    Videos ``first_index .. first_index + num_videos - 1`` of ``params``; generated with
    ``workers`` processes, and the last generated set is reused within the process.
    """

    has_masks = True

    def __init__(self, name: str, params, num_videos: int, frame_range: int, num_use: int,
                 exemplar_size: int, patch_size: int, first_index: int = 0, workers: int = 1,
                 context_amount: float = 0.5):
        super().__init__(name, frame_range, num_use)
        if num_videos < 1:
            raise DatasetError(f"{name}: NUM_VIDEOS must be >= 1, got {num_videos}")
        self.exemplar_size, self.patch_size = int(exemplar_size), int(patch_size)
        self.context_amount = context_amount
        self.tracks = [[v] for v in _generate(params, first_index, num_videos, workers)]

    @classmethod
    def from_config(cls, name: str, node, cfg, workers: Optional[int] = None) -> "SyntheticSource":
        from .synthetic import preset
        overrides = {k.lower(): v for k, v in dict(node.KWARGS).items()}
        try:
            params = preset(node.PRESET, seed=int(node.SEED), **overrides)
        except (KeyError, TypeError, ValueError) as e:
            raise DatasetError(f"DATASET.{name}: bad PRESET / SEED / KWARGS: {e}") from None
        patch = int(node.PATCH_SIZE) or 2 * int(cfg.TRAIN.SEARCH_SIZE) + 1
        if workers is None:
            workers = int(node.get("WORKERS", 0)) or min(4, os.cpu_count() or 1)
        return cls(name, params, int(node.NUM_VIDEOS), node.FRAME_RANGE, node.NUM_USE,
                   cfg.TRAIN.EXEMPLAR_SIZE, patch, workers=workers)

    def track_length(self, video: int, track: int) -> int:
        return len(self.tracks[video][track][0])

    def load(self, ref: TargetRef, with_mask: bool = False) -> TargetPatch:
        from .prepare.crop import siamfc_geometry
        video, track, pos = ref
        frames, masks, boxes = self.tracks[video][track]
        image = cv2.imdecode(np.frombuffer(frames[pos], np.uint8), cv2.IMREAD_COLOR)
        x, y, w, h = boxes[pos]
        g = siamfc_geometry((x, y, x + w, y + h), self.context_amount, self.exemplar_size, self.patch_size)
        mask = None
        if with_mask:
            mask = (cv2.imdecode(np.frombuffer(masks[pos], np.uint8), cv2.IMREAD_GRAYSCALE) > 0).astype(np.uint8)
        # the patch of pysiam.data.prepare.crop.crop_square(frame, cx, cy, s_x, patch_size), not resampled
        scale = g.s_x / (self.patch_size - 1)
        c = (self.patch_size - 1) / 2
        box = np.array([c - w / scale / 2, c - h / scale / 2, c + w / scale / 2, c + h / scale / 2])
        return TargetPatch(image, box, (self.patch_size, self.patch_size), scale=scale,
                           origin=(g.cx - g.s_x / 2, g.cy - g.s_x / 2),
                           border=tuple(cv2.mean(image)[:3]), mask=mask)


SOURCE_TYPES: Dict[str, Callable[..., PairSource]] = {
    "crop511": Crop511Source.from_config,
    "synthetic": SyntheticSource.from_config,
}


def build_source(name: str, cfg) -> PairSource:
    """The source described by section ``cfg.DATASET.<name>`` (looked up by its ``TYPE``)."""
    if name not in cfg.DATASET:
        raise DatasetError(f"DATASET.NAMES lists {name!r} but there is no DATASET.{name} section")
    node = cfg.DATASET[name]
    kind = str(node.get("TYPE", "crop511")).lower()
    if kind not in SOURCE_TYPES:
        raise DatasetError(f"DATASET.{name}.TYPE {kind!r} is unknown; known: {', '.join(sorted(SOURCE_TYPES))}")
    return SOURCE_TYPES[kind](name, node, cfg)
