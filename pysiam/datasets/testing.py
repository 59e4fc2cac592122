"""Small synthetic benchmarks in every supported layout, for tests and end-to-end checks.

Every generator writes a dataset folder under `root` and returns {video: ground truth}; frames
are tiny JPEGs (a bright box on a dark background) unless `frames=False`, in which case the
pysot JSON carries 'width' / 'height' so that evaluation still has the image size.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pysiam.datasets.masks import write_label_png
from pysiam.results.files import atomic_write_text

__all__ = ["random_boxes", "rotated_polygons", "noisy_boxes", "vot_records", "make_otb_like",
           "make_vot", "make_vot_lt", "make_got10k", "make_davis"]


def random_boxes(n: int, size: tuple[int, int], rng: np.random.Generator, min_wh: float = 6.0) -> np.ndarray:
    """A smooth random walk of n x,y,w,h boxes inside a width x height image."""
    w_img, h_img = size
    wh = np.array([w_img, h_img], float)
    sz = rng.uniform(0.15, 0.35, 2) * wh
    c = rng.uniform(0.3, 0.7, 2) * wh
    out = np.empty((n, 4))
    for i in range(n):
        sz = np.clip(sz * np.exp(rng.normal(0, 0.03, 2)), min_wh, 0.6 * wh)
        c = np.clip(c + rng.normal(0, 0.01, 2) * wh, sz / 2, wh - sz / 2)
        out[i] = [c[0] - sz[0] / 2, c[1] - sz[1] / 2, sz[0], sz[1]]
    return np.round(out, 2)


def rotated_polygons(boxes: np.ndarray, rng: np.random.Generator, max_angle: float = 0.3) -> np.ndarray:
    """Each box turned by a random angle about its centre: n x 8 polygons (VOT ground truth)."""
    c = boxes[:, :2] + boxes[:, 2:] / 2
    a = rng.uniform(-max_angle, max_angle, len(boxes))
    pts = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        dx, dy = sx * boxes[:, 2] / 2, sy * boxes[:, 3] / 2
        pts += [c[:, 0] + dx * np.cos(a) - dy * np.sin(a), c[:, 1] + dx * np.sin(a) + dy * np.cos(a)]
    return np.round(np.stack(pts, 1), 2)


def noisy_boxes(gt: np.ndarray, rng: np.random.Generator, noise: float = 0.1) -> np.ndarray:
    """Tracker-like x,y,w,h predictions around ground truth (boxes or polygons)."""
    if gt.shape[1] > 4:
        xs, ys = gt[:, 0::2], gt[:, 1::2]
        gt = np.stack([xs.min(1), ys.min(1), xs.max(1) - xs.min(1), ys.max(1) - ys.min(1)], 1)
    wh = gt[:, 2:4]
    xy = gt[:, :2] + rng.normal(0, noise, (len(gt), 2)) * wh
    wh = wh * np.exp(rng.normal(0, noise, (len(gt), 2)))
    return np.round(np.concatenate([xy, wh], 1), 4)


def vot_records(gt: np.ndarray, rng: np.random.Generator, fail_prob: float = 0.01,
                noise: float = 0.1, polygons: bool = False) -> list:
    """A reset-protocol trajectory: 1 at (re)initialisation, a box while tracking, 2 at a
    failure, 0 on the 4 frames skipped after it (re-initialised 5 frames after the failure)."""
    boxes = noisy_boxes(gt, rng, noise)
    records: list = []
    restart = 0
    for i in range(len(gt)):
        if i == restart:
            records.append(1)
        elif i > restart:
            if rng.random() < fail_prob:
                records.append(2)
                restart = i + 5
            elif polygons:
                x, y, w, h = boxes[i]
                records.append([x, y, x + w, y, x + w, y + h, x, y + h])
            else:
                records.append(boxes[i])
        else:
            records.append(0)
    return records


def _frame(size: tuple[int, int], box: np.ndarray | None) -> np.ndarray:
    w, h = size
    img = np.full((h, w, 3), 30, np.uint8)
    if box is not None and np.isfinite(box).all():
        x, y, bw, bh = (int(round(v)) for v in box[:4])
        img[max(0, y):max(0, y + bh), max(0, x):max(0, x + bw)] = (40, 200, 220)
    return img


def _write_frames(folder: Path, names: list[str], size: tuple[int, int], boxes: Sequence) -> None:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for name, box in zip(names, boxes):
        cv2.imwrite(str(folder / name), _frame(size, box))


def _lines(rows: Sequence[np.ndarray]) -> str:
    return "".join(("nan,nan,nan,nan" if not np.isfinite(r).all() else ",".join(f"{v:g}" for v in r)) + "\n"
                   for r in rows)


def _to_box(region: np.ndarray) -> np.ndarray:
    if len(region) == 4:
        return region
    xs, ys = region[0::2], region[1::2]
    return np.array([xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()])


def _setup(root: str | Path, seed: int, videos: dict[str, int] | None,
           default: dict[str, int]) -> tuple[np.random.Generator, Path, dict[str, int]]:
    """(seeded generator, root folder, {video: frames}, ``default`` when none are given)."""
    return np.random.default_rng(seed), Path(root), videos or default


def _json_entry(video: str, init_rect: list, img_names: list[str], gt_rect: list,
                size: tuple[int, int], frames: bool, **extra: Any) -> dict:
    """One video of a pysot JSON file; without frames it carries the image 'width' / 'height'."""
    return {"video_dir": video, "init_rect": init_rect, "img_names": img_names, "gt_rect": gt_rect,
            **extra, **({} if frames else {"width": size[0], "height": size[1]})}


def _vot_sequence(root: Path, video: str, gt: np.ndarray, boxes: Sequence, size: tuple[int, int],
                  layout: str, frames: bool) -> list[str]:
    """Frame names of a VOT sequence; writes its color/ frames and (native) groundtruth.txt."""
    names = [f"{i:08d}.jpg" for i in range(1, len(gt) + 1)]
    if frames:
        _write_frames(root / video / "color", names, size, boxes)
    if layout == "native":
        atomic_write_text(root / video / "groundtruth.txt", _lines(gt))
    return names


def _vot_index(root: Path, name: str, videos: dict[str, int], layout: str, meta: dict) -> None:
    """list.txt (native layout) or the pysot JSON <root>/<name>.json."""
    if layout == "native":
        atomic_write_text(root / "list.txt", "".join(f"{v}\n" for v in videos))
    else:
        atomic_write_text(root / f"{name}.json", json.dumps(meta))


def make_otb_like(root: str | Path, name: str = "OTB100", videos: dict[str, int] | None = None,
                  size: tuple[int, int] = (48, 36), layout: str = "native", frames: bool = True,
                  seed: int = 0, attrs: dict[str, list[str]] | None = None) -> dict[str, np.ndarray]:
    """OTB-style set: native (<Seq>/img/0001.jpg + groundtruth_rect.txt) or pysot JSON."""
    rng, root, videos = _setup(root, seed, videos, {"Alpha": 12, "Beta": 9})
    gts, meta = {}, {}
    for v, n in videos.items():
        gt = random_boxes(n, size, rng)
        gts[v] = gt
        img_names = [f"{v}/img/{i:04d}.jpg" for i in range(1, n + 1)]
        if frames:
            _write_frames(root / v / "img", [Path(p).name for p in img_names], size, gt)
        if layout == "native":
            atomic_write_text(root / v / "groundtruth_rect.txt", _lines(gt))
        meta[v] = _json_entry(v, gt[0].tolist(), img_names, gt.tolist(), size, frames,
                              attr=(attrs or {}).get(v, []))
    if layout == "json":
        atomic_write_text(root / f"{name}.json", json.dumps(meta))
    return gts


def make_vot(root: str | Path, name: str = "VOT2018", videos: dict[str, int] | None = None,
             size: tuple[int, int] = (64, 48), layout: str = "native", frames: bool = True,
             seed: int = 0, tags: bool = True) -> dict[str, np.ndarray]:
    """VOT short-term set: list.txt, <seq>/groundtruth.txt (polygons), color/00000001.jpg,
    per-frame .tag files; or the same as pysot JSON (<root>/<name>.json)."""
    rng, root, videos = _setup(root, seed, videos, {"ants": 30, "bag": 24})
    gts, meta = {}, {}
    for v, n in videos.items():
        gt = rotated_polygons(random_boxes(n, size, rng), rng)
        gts[v] = gt
        names = _vot_sequence(root, v, gt, [_to_box(g) for g in gt], size, layout, frames)
        tag_values = {t: (rng.random(n) < 0.3).astype(int) for t in
                      ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion")} if tags else {}
        if layout == "native":
            for t, vals in tag_values.items():
                atomic_write_text(root / v / f"{t}.tag", "".join(f"{x}\n" for x in vals))
        meta[v] = _json_entry(v, _to_box(gt[0]).tolist(), [f"{v}/color/{p}" for p in names], gt.tolist(),
                              size, frames, **{t: vals.tolist() for t, vals in tag_values.items()})
    _vot_index(root, name, videos, layout, meta)
    return gts


def make_vot_lt(root: str | Path, name: str = "VOT2018-LT", videos: dict[str, int] | None = None,
                size: tuple[int, int] = (64, 48), layout: str = "native", frames: bool = True,
                seed: int = 0) -> dict[str, np.ndarray]:
    """VOT long-term set: like `make_vot` with boxes and a stretch of 'nan' (absent) lines."""
    rng, root, videos = _setup(root, seed, videos, {"car1": 30, "group": 25})
    gts, meta = {}, {}
    for v, n in videos.items():
        gt = random_boxes(n, size, rng)
        a = int(rng.integers(n // 3, n // 2))
        gt[a:a + 4] = np.nan
        gts[v] = gt
        names = _vot_sequence(root, v, gt, gt, size, layout, frames)
        gt_rect = [r.tolist() if np.isfinite(r).all() else [float("nan")] * 4 for r in gt]
        meta[v] = _json_entry(v, gt[0].tolist(), [f"{v}/color/{p}" for p in names], gt_rect, size, frames)
    _vot_index(root, name, videos, layout, meta)
    return gts


def make_got10k(root: str | Path, split: str = "val", videos: dict[str, int] | None = None,
                size: tuple[int, int] = (48, 36), seed: int = 0) -> dict[str, np.ndarray]:
    """GOT-10k split folder: list.txt, <seq>/00000001.jpg, groundtruth.txt, cover.label,
    absence.label, meta_info.ini (resolution). The test split keeps only the first box."""
    rng, root, videos = _setup(root, seed, videos, {"GOT-10k_Val_000001": 10, "GOT-10k_Val_000002": 8})
    base = root / split
    gts = {}
    for v, n in videos.items():
        gt = random_boxes(n, size, rng)
        gts[v] = gt
        d = base / v
        _write_frames(d, [f"{i:08d}.jpg" for i in range(1, n + 1)], size, gt)
        atomic_write_text(d / "groundtruth.txt", _lines(gt if split != "test" else gt[:1]))
        cover = np.full(n, 8)
        cover[n // 2] = 0
        atomic_write_text(d / "cover.label", "".join(f"{c}\n" for c in cover))
        atomic_write_text(d / "absence.label", "".join(f"{int(c == 0)}\n" for c in cover))
        atomic_write_text(d / "meta_info.ini", f"[METAINFO]\nobject_class: thing\n"
                                               f"resolution: ({size[0]}, {size[1]})\n")
    atomic_write_text(base / "list.txt", "".join(f"{v}\n" for v in videos))
    return gts


def make_davis(root: str | Path, year: int = 2017, videos: dict[str, int] | None = None,
               size: tuple[int, int] = (40, 30), objects: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    """DAVIS set: JPEGImages/480p/<seq>/00000.jpg, Annotations/480p/<seq>/00000.png (2017:
    palette labels 1..objects; 2016: grey 0/255, one object), ImageSets/<year>/val.txt.
    Returns {seq: T x H x W label arrays}."""
    rng, root, videos = _setup(root, seed, videos, {"dog": 6, "cat": 5})
    out = {}
    n_obj = objects if year == 2017 else 1
    for v, n in videos.items():
        labels = np.zeros((n, size[1], size[0]), np.uint8)
        for o in range(1, n_obj + 1):
            for t, box in enumerate(random_boxes(n, size, rng)):
                x, y, w, h = (int(round(q)) for q in box)
                labels[t, y:y + h, x:x + w] = o
        out[v] = labels
        names = [f"{t:05d}" for t in range(n)]
        _write_frames(root / "JPEGImages" / "480p" / v, [f"{s}.jpg" for s in names], size, [None] * n)
        for s, lab in zip(names, labels):
            path = root / "Annotations" / "480p" / v / f"{s}.png"
            if year == 2017:
                write_label_png(path, lab)
            else:
                import cv2
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), (lab > 0).astype(np.uint8) * 255)
    atomic_write_text(root / "ImageSets" / str(year) / "val.txt", "".join(f"{v}\n" for v in videos))
    return out
