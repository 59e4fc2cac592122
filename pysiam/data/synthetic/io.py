"""The synthetic benchmark on disk in OTB layout: resumable (parallel) writer and reader."""
from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Iterable, Sequence

import cv2
import numpy as np

from pysiam.utils.atomic import atomic_write_text

from .params import GENERATOR_VERSION, SynthParams, SyntheticVideo, video_name
from .scene import generate_video

_JPEG_QUALITY = 95


def _format_box(box: Sequence[float]) -> str:
    return ",".join(f"{float(v):.10g}" for v in box)


def _read_gt(path: Path) -> list[list[float]]:
    rows = []
    for ln, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        vals = line.replace("\t", ",").replace(" ", ",").split(",")
        try:
            row = [float(v) for v in vals if v != ""]
        except ValueError as e:
            raise ValueError(f"{path}:{ln}: cannot parse box {line!r}") from e
        if len(row) != 4:
            raise ValueError(f"{path}:{ln}: expected 4 values x,y,w,h, got {len(row)}")
        rows.append(row)
    return rows


def _meta(index: int, name: str, params: SynthParams) -> dict:
    return {"version": GENERATOR_VERSION, "index": index, "name": video_name(name, index),
            "params": asdict(params)}


def _existing(root: Path, index: int, name: str, params: SynthParams) -> tuple[list, list] | None:
    """(gt rows, attr) of a complete, up-to-date video folder, else None."""
    vdir = root / video_name(name, index)
    try:
        meta = json.loads((vdir / "meta.json").read_text())
        gt = _read_gt(vdir / "groundtruth_rect.txt")
    except (OSError, ValueError):
        return None
    if {k: meta.get(k) for k in ("version", "index", "name", "params")} != _meta(index, name, params):
        return None
    if len(gt) != params.n_frames:
        return None
    return gt, list(meta.get("attr", []))


def _write_video(root: str, index: int, name: str, params: SynthParams,
                 single_thread: bool = False) -> tuple[str, list, list]:
    """Generate one video and move it into place atomically; returns (video, gt rows, attr)."""
    if single_thread:
        cv2.setNumThreads(1)
    root_p = Path(root)
    vname = video_name(name, index)
    video = generate_video(index, params)
    tmp = root_p / f".tmp-{vname}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "img").mkdir(parents=True)
    (tmp / "mask").mkdir()
    for i, (frame, mask) in enumerate(zip(video.frames, video.masks), 1):
        jpeg = [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]
        if not cv2.imwrite(str(tmp / "img" / f"{i:04d}.jpg"), frame, jpeg):
            raise OSError(f"could not write {tmp / 'img' / f'{i:04d}.jpg'}")
        if not cv2.imwrite(str(tmp / "mask" / f"{i:04d}.png"), mask * 255):
            raise OSError(f"could not write {tmp / 'mask' / f'{i:04d}.png'}")
    gt_text = "\n".join(_format_box(b) for b in video.boxes) + "\n"
    (tmp / "groundtruth_rect.txt").write_text(gt_text)
    meta = dict(_meta(index, name, params), attr=video.attr,
                min_visible=float(video.visible.min()))
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    final = root_p / vname
    if final.exists():   # stale or incomplete: move aside first so the swap stays atomic
        old = root_p / f".old-{vname}-{os.getpid()}"
        os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old)
    else:
        os.rename(tmp, final)
    return vname, [[float(v) for v in b] for b in video.boxes], video.attr


def _write_missing(root: Path, todo: list[int], name: str, params: SynthParams, workers: int,
                   results: dict[int, tuple[str, list, list]], bar: Any = None) -> None:
    """Generate videos ``todo`` (in ``workers`` spawned processes when > 1) into ``results``."""
    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_write_video, str(root), i, name, params, True): i for i in todo}
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                if bar is not None:
                    bar.update(1)
    else:
        for i in todo:
            results[i] = _write_video(str(root), i, name, params)
            if bar is not None:
                bar.update(1)


def _index(videos: Iterable[tuple[str, list, list]]) -> dict:
    """The pysot JSON index {video: {video_dir, init_rect, img_names, gt_rect, attr}}."""
    meta = {}
    for vname, gt, attr in videos:
        meta[vname] = {
            "video_dir": vname,
            "init_rect": gt[0],
            "img_names": [f"{vname}/img/{k:04d}.jpg" for k in range(1, len(gt) + 1)],
            "gt_rect": gt,
            "attr": attr,
        }
    return meta


def write_otb_layout(root: str | os.PathLike, n_videos: int, params: SynthParams | None = None,
                     name: str = "SYNTH", workers: int = 1, progress: bool = False) -> Path:
    """Write ``n_videos`` videos in OTB layout under ``root`` plus ``root/<name>.json``.

    Resumable: folders whose ``meta.json`` matches the generator version, index and parameters are
    kept; anything else is regenerated. Each video is written to a temporary folder and renamed
    into place. ``workers > 1`` generates in that many processes. Returns the JSON path.
    One writer per ``root`` at a time.
    """
    p = params or SynthParams()
    root_p = Path(root)
    root_p.mkdir(parents=True, exist_ok=True)
    for leftover in list(root_p.glob(f".tmp-{name}_*")) + list(root_p.glob(f".old-{name}_*")):
        shutil.rmtree(leftover, ignore_errors=True)

    results: dict[int, tuple[str, list, list]] = {}
    todo = []
    for i in range(n_videos):
        done = _existing(root_p, i, name, p)
        if done is None:
            todo.append(i)
        else:
            results[i] = (video_name(name, i), *done)

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=n_videos, initial=n_videos - len(todo), desc=f"synthetic {name}", unit="video")
    try:
        _write_missing(root_p, todo, name, p, workers, results, bar)
    finally:
        if bar is not None:
            bar.close()
    meta = _index(results[i] for i in range(n_videos))
    out = root_p / f"{name}.json"
    atomic_write_text(out, json.dumps(meta))
    return out


def read_otb_video(root: str | os.PathLike, video: str, with_masks: bool = True) -> SyntheticVideo:
    """Read one written video back (frames, boxes, masks as 0/1)."""
    vdir = Path(root) / video
    gt = _read_gt(vdir / "groundtruth_rect.txt")
    frames, masks = [], []
    for path in sorted((vdir / "img").glob("*.jpg")):
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise OSError(f"cannot read image {path}")
        frames.append(img)
    if with_masks:
        for path in sorted((vdir / "mask").glob("*.png")):
            m = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if m is None:
                raise OSError(f"cannot read mask {path}")
            masks.append((m > 127).astype(np.uint8))
    attr = []
    if (vdir / "meta.json").exists():
        attr = list(json.loads((vdir / "meta.json").read_text()).get("attr", []))
    return SyntheticVideo(frames, np.asarray(gt, np.float32).reshape(-1, 4), masks, video, attr=attr)
