"""Readers of the native layouts of single-object OPE benchmarks and GOT-10k.

Each reader returns {video name: Video}. Frames are matched to ground-truth lines by the number
in the frame's file name; a line without its frame is an error naming the ground-truth file and
line. Nothing is decoded: only folder listings and text files are read.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Collection, Iterable

import numpy as np

from pysiam.datasets.parsing import (BenchmarkFormatError, check_frame_count, check_init_row,
                                       frame_number, list_frames, read_int_column, read_rows)
from pysiam.datasets.video import Video

__all__ = ["match_frames", "read_sequence_list", "read_otb", "read_uav", "read_lasot", "read_nfs", "read_trackingnet",
           "read_got10k", "OTB2013_NAMES", "OTB_START_FRAME", "UAV123_START_FRAME",
           "UAV_ATTRIBUTES"]

# Sequences of OTB-2015 whose annotated range does not start at frame 1 (from the OTB toolkit's
# sequence table; the range length is the number of ground-truth lines).
OTB_START_FRAME = {"BlurCar1": 247, "BlurCar3": 3, "BlurCar4": 18, "David": 300, "Tiger1": 6}

# OTB-2015 sequences whose img/ folder goes on after the annotated range (the OTB toolkit's
# sequence table ends Diving at frame 215); elsewhere (except the sub-ranges of OTB_START_FRAME)
# frames after the last ground-truth line are an error (a cut ground-truth file).
OTB_TRAILING_FRAMES_OK = frozenset({"Diving"})

# The 51 targets of OTB-2013 (CVPR13); Jogging has two.
OTB2013_NAMES = (
    "Basketball", "Bolt", "Boy", "Car4", "CarDark", "CarScale", "Coke", "Couple", "Crossing",
    "David", "David2", "David3", "Deer", "Dog1", "Doll", "Dudek", "FaceOcc1", "FaceOcc2", "Fish",
    "FleetFace", "Football", "Football1", "Freeman1", "Freeman3", "Freeman4", "Girl", "Ironman",
    "Jogging-1", "Jogging-2", "Jumping", "Lemming", "Liquor", "Matrix", "Mhyang", "MotorRolling",
    "MountainBike", "Shaking", "Singer1", "Singer2", "Skating1", "Skiing", "Soccer", "Subway",
    "Suv", "Sylvester", "Tiger1", "Tiger2", "Trellis", "Walking", "Walking2", "Woman")

# UAV123 sequences cut out of a longer recording: first frame in the folder named before '_k'
# (UAV123 toolkit's sequence table; the length is the number of annotation lines).
UAV123_START_FRAME = {
    "bird1_2": 775, "bird1_3": 1573, "car1_2": 751, "car1_3": 1627, "car6_2": 487, "car6_3": 1807,
    "car6_4": 2953, "car6_5": 3925, "car8_2": 1357, "car16_2": 415, "group1_2": 1333,
    "group1_3": 2515, "group1_4": 3925, "group2_2": 907, "group2_3": 1771, "group3_2": 1567,
    "group3_3": 2827, "group3_4": 4369, "person2_2": 1189, "person4_2": 1501, "person5_2": 877,
    "person7_2": 1249, "person8_2": 1075, "person12_2": 601, "person14_2": 847,
    "person14_3": 1813, "person17_2": 1501, "person19_2": 1243, "person19_3": 2791,
    "truck4_2": 577, "uav1_2": 1555, "uav1_3": 2473}

# Column order of UAV123's anno/UAV123/att/<seq>.txt flags.
UAV_ATTRIBUTES = ("Scale Variation", "Aspect Ratio Change", "Low Resolution", "Fast Motion",
                  "Full Occlusion", "Partial Occlusion", "Out-of-View", "Background Clutter",
                  "Illumination Variation", "Viewpoint Change", "Camera Motion", "Similar Object")


def match_frames(frames: list[str], numbers: Iterable[int], gt_path: str | Path,
                 folder: str | Path) -> list[str]:
    """Pick the frame file for each wanted frame number; error names the gt line without one."""
    by_number = {}
    for f in frames:
        n = frame_number(f)
        if n is not None:
            by_number.setdefault(n, f)
    out = []
    for line, n in enumerate(numbers, 1):
        if n not in by_number:
            raise BenchmarkFormatError(
                f"{gt_path}:{line}: no frame numbered {n} in {folder} for this ground-truth line")
        out.append(by_number[n])
    return out


def read_sequence_list(path: Path, what: str | None = None) -> list[str]:
    """The non-blank, stripped lines of a sequence list; with ``what`` (e.g. 'VOT') a missing
    file is a FileNotFoundError naming it."""
    if what is not None and not path.is_file():
        raise FileNotFoundError(f"{what} sequence list not found: {path}")
    return [l.strip() for l in path.read_text().splitlines() if l.strip()]


def _subdirs(root: Path) -> list[Path]:
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {root}")
    return sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))


def read_otb(root: str | Path, names: Collection[str] | None = None, **_: Any) -> dict[str, Video]:
    """OTB: <root>/<Seq>/img/0001.jpg and groundtruth_rect.txt (or groundtruth_rect.<k>.txt,
    giving <Seq>-<k>); comma, tab or space separated x,y,w,h."""
    videos = {}
    for seq_dir in _subdirs(Path(root)):
        for gt_path in sorted(seq_dir.glob("groundtruth_rect*.txt")):
            m = re.fullmatch(r"groundtruth_rect\.(\d+)\.txt", gt_path.name)
            if gt_path.name != "groundtruth_rect.txt" and not m:
                continue
            name = f"{seq_dir.name}-{m.group(1)}" if m else seq_dir.name
            if names is not None and name not in names:
                continue
            gt = read_rows(gt_path, (4,))
            check_init_row(gt, f"{gt_path}:1")
            start = OTB_START_FRAME.get(seq_dir.name, 1)
            img_dir = seq_dir / "img"
            frames = list_frames(img_dir)
            imgs = match_frames(frames, range(start, start + len(gt)), gt_path, img_dir)
            if seq_dir.name not in OTB_TRAILING_FRAMES_OK and seq_dir.name not in OTB_START_FRAME:
                check_frame_count(frames, start + len(gt) - 1, gt_path, img_dir)
            videos[name] = Video(name, imgs, gt)
    if names is not None:
        missing = sorted(set(names) - set(videos))
        if missing:
            raise FileNotFoundError(f"{root}: sequences not found: {', '.join(missing[:10])}")
    return videos


def read_uav(root: str | Path, version: str = "UAV123", **_: Any) -> dict[str, Video]:
    """UAV123 / UAV20L: <root>/anno/<version>/<seq>.txt (NaN lines: target absent),
    <root>/data_seq/UAV123/<folder>/000001.jpg, optional anno/<version>/att/<seq>.txt flags."""
    root = Path(root)
    anno_dir = root / "anno" / version
    if not anno_dir.is_dir():
        raise FileNotFoundError(f"UAV annotation folder not found: {anno_dir}")
    videos = {}
    listings: dict[Path, list[str]] = {}
    for gt_path in sorted(anno_dir.glob("*.txt")):
        name = gt_path.stem
        gt = read_rows(gt_path, (4,))
        check_init_row(gt, f"{gt_path}:1")
        folder = name
        m = re.fullmatch(r"(.+)_(\d+)", name)
        if m and (m.group(1) + "_1" == name or name in UAV123_START_FRAME):
            folder = m.group(1)
        start = UAV123_START_FRAME.get(name, 1) if version == "UAV123" else 1
        img_dir = root / "data_seq" / "UAV123" / folder
        if img_dir not in listings:
            listings[img_dir] = list_frames(img_dir)
        imgs = match_frames(listings[img_dir], range(start, start + len(gt)), gt_path, img_dir)
        attrs = []
        att_path = anno_dir / "att" / f"{name}.txt"
        if att_path.is_file():
            flags = read_int_column(att_path)
            attrs = [a for a, f in zip(UAV_ATTRIBUTES, flags) if f]
        videos[name] = Video(name, imgs, gt, attrs=attrs)
    return videos


def read_lasot(root: str | Path, names: Collection[str] | None = None, **_: Any) -> dict[str, Video]:
    """LaSOT: <root>/<class>/<class>-<k>/{img/00000001.jpg, groundtruth.txt, full_occlusion.txt,
    out_of_view.txt}. A frame is visible when neither flag is set. When <root>/testing_set.txt
    exists only the sequences it lists are read."""
    root = Path(root)
    if names is None and (root / "testing_set.txt").is_file():
        names = read_sequence_list(root / "testing_set.txt")
    videos = {}
    for cls_dir in _subdirs(root):
        for seq_dir in _subdirs(cls_dir):
            name = seq_dir.name
            if names is not None and name not in names:
                continue
            gt_path = seq_dir / "groundtruth.txt"
            if not gt_path.is_file():
                continue
            gt = read_rows(gt_path, (4,))
            check_init_row(gt, f"{gt_path}:1")
            visible = np.ones(len(gt), bool)
            for flag in ("full_occlusion.txt", "out_of_view.txt"):
                if (seq_dir / flag).is_file():
                    visible &= read_int_column(seq_dir / flag, len(gt)) == 0
            img_dir = seq_dir / "img"
            frames = list_frames(img_dir)
            imgs = match_frames(frames, range(1, len(gt) + 1), gt_path, img_dir)
            check_frame_count(frames, len(gt), gt_path, img_dir)
            videos[name] = Video(name, imgs, gt, visible=visible, meta={"class": cls_dir.name})
    return videos


def _read_nfs_boxes(path: Path) -> np.ndarray:
    rows = []
    for i, line in enumerate(path.read_text().splitlines()):
        if not line.strip():
            continue
        fields = line.split()
        try:
            x1, y1, x2, y2 = (float(f) for f in fields[1:5])
        except ValueError:
            raise BenchmarkFormatError(f"{path}:{i + 1}: expected 'id xmin ymin xmax ymax ...'") from None
        rows.append([x1, y1, x2 - x1, y2 - y1])
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


def read_nfs(root: str | Path, fps: int = 30, **_: Any) -> dict[str, Video]:
    """NfS: <root>/<seq>/<fps>/<seq>.txt (id xmin ymin xmax ymax ..., annotated at 240 fps) and
    <root>/<seq>/<fps>/<seq>/*.jpg. For 30 fps every 8th annotation is used."""
    videos = {}
    for seq_dir in _subdirs(Path(root)):
        gt_path = seq_dir / str(fps) / f"{seq_dir.name}.txt"
        if not gt_path.is_file():
            continue
        gt = _read_nfs_boxes(gt_path)
        check_init_row(gt, f"{gt_path}:1")
        imgs = list_frames(seq_dir / str(fps) / seq_dir.name)
        if len(gt) != len(imgs) and abs(len(gt) / max(len(imgs), 1) - 8) < 1:
            gt = gt[0::8]
        if 0 < len(gt) - len(imgs) <= 1 or 0 < len(imgs) - len(gt) <= 1:
            n = min(len(gt), len(imgs))
            gt, imgs = gt[:n], imgs[:n]
        if len(gt) != len(imgs):
            raise BenchmarkFormatError(f"{gt_path}: {len(gt)} boxes for {len(imgs)} frames")
        videos[seq_dir.name] = Video(seq_dir.name, imgs, gt)
    return videos


def read_trackingnet(root: str | Path, split: str = "TEST", **_: Any) -> dict[str, Video]:
    """TrackingNet: <root>/<split>/anno/<seq>.txt and <root>/<split>/frames/<seq>/0.jpg, 1.jpg...
    The TEST split gives the first frame's box only (the rest is withheld)."""
    base = Path(root) / split
    anno_dir = base / "anno"
    if not anno_dir.is_dir():
        raise FileNotFoundError(f"TrackingNet annotation folder not found: {anno_dir}")
    videos = {}
    for gt_path in sorted(anno_dir.glob("*.txt")):
        name = gt_path.stem
        gt = read_rows(gt_path, (4,))
        check_init_row(gt, f"{gt_path}:1")
        frames = list_frames(base / "frames" / name)
        if len(gt) > 1:
            check_frame_count(frames, len(gt) - 1, gt_path, base / "frames" / name)
            frames = match_frames(frames, range(len(gt)), gt_path, base / "frames" / name)
        videos[name] = Video(name, frames, gt, meta={"gt_complete": len(gt) > 1 or len(frames) == 1})
    return videos


def _read_meta_info(path: Path) -> dict[str, str]:
    meta = {}
    if path.is_file():
        for line in path.read_text().splitlines()[1:]:
            if ": " in line:
                k, v = line.split(": ", 1)
                meta[k.strip()] = v.strip()
    return meta


def read_got10k(root: str | Path, split: str = "val", **_: Any) -> dict[str, Video]:
    """GOT-10k: <root>/<split>/list.txt, <seq>/{00000001.jpg, groundtruth.txt, cover.label,
    absence.label, meta_info.ini}. Frames with cover 0 are not scored. The test split gives
    only the first box."""
    base = Path(root) / split
    if not (base / "list.txt").is_file() and (Path(root) / "list.txt").is_file():
        base = Path(root)
    names = read_sequence_list(base / "list.txt", "GOT-10k")
    videos = {}
    for name in names:
        seq_dir = base / name
        gt_path = seq_dir / "groundtruth.txt"
        gt = read_rows(gt_path, (4,))
        check_init_row(gt, f"{gt_path}:1")
        frames = list_frames(seq_dir)
        if len(gt) > 1:
            check_frame_count(frames, len(gt), gt_path, seq_dir)
            frames = match_frames(frames, range(1, len(gt) + 1), gt_path, seq_dir)
        meta = _read_meta_info(seq_dir / "meta_info.ini")
        size = None
        m = re.fullmatch(r"\(\s*(\d+)\s*,\s*(\d+)\s*\)", meta.get("resolution", ""))
        if m:
            size = (int(m.group(1)), int(m.group(2)))
        visible = None
        if (seq_dir / "cover.label").is_file() and len(gt) > 1:
            visible = read_int_column(seq_dir / "cover.label", len(gt)) > 0
        elif (seq_dir / "absence.label").is_file() and len(gt) > 1:
            visible = read_int_column(seq_dir / "absence.label", len(gt)) == 0
        videos[name] = Video(name, frames, gt, visible=visible, image_size=size,
                             meta={"gt_complete": len(gt) > 1 or len(frames) == 1, **meta})
    return videos
