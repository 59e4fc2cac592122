"""Run a source through the cropper: parallel over videos, resumable, with a JSON index at the end.

Output (pysot's layout, so pysot's own crops load unchanged)::

    OUT/crop{instance_size}/<video>/<frame:06d>.<track:02d>.x.jpg   search crop (511)
    OUT/crop{instance_size}/<video>/<frame:06d>.<track:02d>.z.jpg   template crop (127)
    OUT/crop{instance_size}/<video>/<frame:06d>.<track:02d>.m.png   search-crop mask (mask sources)
    OUT/<split>.json   {video: {track "%02d": {frame "%06d": [x1, y1, x2, y2]}}}, original image pixels
                       (COCO: pysot's name, train2017.json / val2017.json)

Resuming: a target whose crop files all exist is not cropped again, so a video whose crops are
complete costs one directory listing. The JSON is rebuilt from the annotations on every run and
lists exactly the targets that have crops (frames that failed with ``skip_errors`` are left out).
"""
from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import cv2

from .base import AnnotationError, Frame, ImageReadError, PrepareError, Source, Target, VideoRef
from .crop import crop_like_siamfc, crop_mask_like_siamfc, mean_padding
from .io import image_size, read_image, write_image_atomic, write_bytes_atomic, write_json_atomic


@dataclass
class PrepareOptions:
    """Where to write and how to crop; the defaults are pysot's."""

    out_dir: Path
    workers: int = 1
    skip_errors: bool = False
    limit: Optional[int] = None
    masks: bool = True
    context_amount: float = 0.5
    exemplar_size: int = 127
    instance_size: int = 511

    @property
    def crop_dir(self) -> Path:
        return Path(self.out_dir) / f"crop{self.instance_size}"


@dataclass
class VideoResult:
    """What one worker reports for one video."""

    name: str
    tracks: dict
    counts: Counter
    errors: list


@dataclass
class PrepareSummary:
    """Totals of a run: counters by kind, error messages, the JSON written."""

    json_path: Path
    videos: int
    counts: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)

    @property
    def errors_path(self) -> Path:
        return self.json_path.with_name(f"{self.json_path.stem}_errors.txt")

    def lines(self) -> list[str]:
        c = self.counts
        out = [f"wrote {self.json_path} ({self.videos} videos, {c['targets']} targets)",
               f"crops: {c['crops_written']} targets cropped now, {c['targets'] - c['crops_written']} found "
               f"complete; {c['videos_complete']} of {c['videos_listed']} videos needed no work"]
        skipped = [(k, c[k]) for k in ("invalid_boxes", "missing_images", "bad_images", "bad_annotations",
                                        "failed_frames") if c[k]]
        if skipped:
            out.append("skipped: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in skipped))
        return out


def crop_names(frame: int, track: int, with_mask: bool) -> dict[str, str]:
    """File names of one target's crops, by kind ('x', 'z' and, with masks, 'm')."""
    stem = f"{frame:06d}.{track:02d}"
    names = {"x": f"{stem}.x.jpg", "z": f"{stem}.z.jpg"}
    if with_mask:
        names["m"] = f"{stem}.m.png"
    return names


def _pixel_box(t: Target, width: int, height: int) -> list:
    if not t.normalized:
        return list(t.bbox)
    x1, y1, x2, y2 = t.bbox
    return [x1 * width, y1 * height, x2 * width, y2 * height]


class _VideoCropper:
    """Crops the frames of one video that are not complete yet; collects the JSON entries."""

    def __init__(self, source: Source, name: str, opts: PrepareOptions):
        self.source, self.opts = source, opts
        self.dir = opts.crop_dir / name
        self.existing = set(os.listdir(self.dir)) if self.dir.is_dir() else set()
        for leftover in [n for n in self.existing if n.startswith(".") and n.endswith(".tmp")]:
            (self.dir / leftover).unlink(missing_ok=True)  # from an interrupted run
        self.tracks: dict = {}
        self.counts: Counter = Counter()
        self.errors: list = []

    def run_frame(self, frame: Frame) -> None:
        valid = [t for t in frame.targets if t.is_valid()]
        self.counts["invalid_boxes"] += len(frame.targets) - len(valid)
        if not valid:
            return
        with_mask = self.opts.masks and self.source.has_masks and frame.mask_info is not None
        todo = [t for t in valid
                if not all(n in self.existing for n in crop_names(frame.index, t.track, with_mask).values())]
        try:
            boxes = self._crop(frame, valid, todo, with_mask)
        except ImageReadError as e:
            if e.missing and self.source.missing_images_ok:
                self.counts["missing_images"] += 1
                return
            self._fail("bad_images", e)
            return
        except PrepareError as e:
            self._fail("failed_frames", e)
            return
        except Exception as e:  # e.g. cv2.error on a strange box: name the frame
            self._fail("failed_frames", PrepareError(
                f"{self.dir.name}: frame {frame.index} ({frame.image}): {type(e).__name__}: {e}"))
            return
        self.counts["targets"] += len(valid)
        self.counts["crops_written"] += len(todo)
        for t in valid:
            self.tracks.setdefault(f"{t.track:02d}", {})[f"{frame.index:06d}"] = boxes[t.track]

    def _fail(self, kind: str, error: PrepareError) -> None:
        if not self.opts.skip_errors:
            raise error
        self.counts[kind] += 1
        self.errors.append(str(error))

    def _crop(self, frame: Frame, valid: list, todo: list, with_mask: bool) -> dict:
        """Write the missing crops of ``todo``; return the pixel boxes of all ``valid`` targets."""
        image = read_image(frame.image) if todo else None
        if image is not None:
            height, width = image.shape[:2]
        elif any(t.normalized for t in valid):
            width, height = image_size(frame.image)
        else:
            width = height = 0
        boxes = {t.track: _pixel_box(t, width, height) for t in valid}
        if not todo:
            return boxes
        masks = self.source.load_masks(frame, image.shape[:2]) if with_mask else {}
        padding = mean_padding(image)
        o = self.opts
        self.dir.mkdir(parents=True, exist_ok=True)
        for t in todo:
            names = crop_names(frame.index, t.track, with_mask)
            z, x = crop_like_siamfc(image, boxes[t.track], o.context_amount, o.exemplar_size,
                                    o.instance_size, padding)
            if with_mask:
                mask = masks.get(t.track)
                if mask is None or mask.shape != image.shape[:2]:
                    got = "none" if mask is None else f"shape {mask.shape}"
                    raise PrepareError(f"{frame.image}: mask of track {t.track} does not fit the image "
                                       f"({got}, image {image.shape[:2]})")
                _, m = crop_mask_like_siamfc(mask, boxes[t.track], o.context_amount,
                                             o.exemplar_size, o.instance_size)
                write_image_atomic(self.dir / names["m"], m)
            write_image_atomic(self.dir / names["z"], z)
            write_image_atomic(self.dir / names["x"], x)
        return boxes


def process_video(source: Source, ref: VideoRef, opts: PrepareOptions) -> VideoResult:
    """Crop one video (the work of one task); errors raise unless ``opts.skip_errors``."""
    cropper = _VideoCropper(source, ref.name, opts)
    cropper.counts["videos_listed"] = 1
    try:
        video = source.load_video(ref)
    except AnnotationError as e:
        cropper._fail("bad_annotations", e)
        return VideoResult(ref.name, {}, cropper.counts, cropper.errors)
    for frame in video.frames:
        cropper.run_frame(frame)
    if cropper.counts["crops_written"] == 0 and not cropper.errors:
        cropper.counts["videos_complete"] = 1
    return VideoResult(video.name, cropper.tracks, cropper.counts, cropper.errors)


def _process_task(task: tuple) -> VideoResult:
    return process_video(*task)


def _init_worker() -> None:
    cv2.setNumThreads(1)


def _results(source: Source, refs: list, opts: PrepareOptions) -> Iterator[VideoResult]:
    tasks = ((source, ref, opts) for ref in refs)
    if opts.workers <= 1:
        yield from map(_process_task, tasks)
        return
    # Not "fork": a forked copy of a process that runs threads (torch, OpenCV) can deadlock.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(opts.workers, initializer=_init_worker) as pool:
        yield from pool.imap_unordered(_process_task, tasks, chunksize=1)


def _sorted_refs(source: Source, limit: Optional[int]) -> list[VideoRef]:
    refs = sorted(source.list_videos(), key=lambda r: r.name)
    names = [r.name for r in refs]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})[:5]
        raise PrepareError(f"{source.name}: duplicate video names {dup}")
    return refs if limit is None else refs[:limit]


def annotation_index(source: Source, limit: Optional[int] = None) -> dict:
    """The index a complete error-free run writes, from the annotations alone (no cropping).

    Images are not decoded; only sources with normalized boxes read image headers.
    """
    index: dict = {}
    for ref in _sorted_refs(source, limit):
        video = source.load_video(ref)
        tracks: dict = {}
        for frame in video.frames:
            valid = [t for t in frame.targets if t.is_valid()]
            if not valid:
                continue
            try:
                size = image_size(frame.image) if any(t.normalized for t in valid) else (0, 0)
            except ImageReadError as e:
                if e.missing and source.missing_images_ok:
                    continue
                raise
            for t in valid:
                tracks.setdefault(f"{t.track:02d}", {})[f"{frame.index:06d}"] = _pixel_box(t, *size)
        if tracks:
            index[video.name] = tracks
    return index


def prepare(source: Source, opts: PrepareOptions, progress: bool = True) -> PrepareSummary:
    """Crop every video of ``source`` into ``opts.crop_dir`` and write ``OUT/<split>.json`` atomically.

    Raises :class:`PrepareError` at the first bad image or annotation unless ``opts.skip_errors``;
    then bad items are counted and listed in the summary and in ``OUT/<split>_errors.txt``
    (named after the index file).
    """
    from tqdm import tqdm

    refs = _sorted_refs(source, opts.limit)
    out_dir = Path(opts.out_dir)
    opts.crop_dir.mkdir(parents=True, exist_ok=True)

    dataset: dict = {}
    counts: Counter = Counter()
    errors: list = []
    with tqdm(total=len(refs), desc=f"{source.name} {source.split}", unit="video",
              disable=None if progress else True, dynamic_ncols=True) as bar:
        for result in _results(source, refs, opts):
            if result.tracks:
                dataset[result.name] = result.tracks
            counts.update(result.counts)
            errors.extend(result.errors)
            bar.update(1)
            if errors:
                bar.set_postfix(errors=len(errors))

    json_path = out_dir / source.json_name()
    write_json_atomic(json_path, dataset)
    errors_path = json_path.with_name(f"{json_path.stem}_errors.txt")
    if errors:
        write_bytes_atomic(errors_path, ("\n".join(errors) + "\n").encode())
    elif errors_path.exists():
        errors_path.unlink()
    return PrepareSummary(json_path, len(dataset), counts, errors)
