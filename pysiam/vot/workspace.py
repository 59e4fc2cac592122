"""Turn a dataset pysiam can read (OTB, VOT, DAVIS ... layouts) into a vot-toolkit workspace.

    ws = build_workspace("DAVIS2017", "/data/DAVIS", "ws", videos=["blackswan"], max_frames=60)
    write_trackers_ini(ws, "pysiam_mask", "siammask_r50_l3", "model.pth")
    # then: vot evaluate --workspace ws pysiam_mask ; vot analysis --workspace ws pysiam_mask

Layout written (no download is ever needed):
  <ws>/config.yaml                  registry '.', stack '<stack>.yaml', sequences 'sequences'
  <ws>/<stack>.yaml                 a multistart experiment 'baseline' (EAO over [low, high],
                                    AR), optionally 'unsupervised' (average accuracy) and
                                    'supervised' (VOT2019-style reset: AR, EAO) experiments
  <ws>/trackers.ini                 see write_trackers_ini
  <ws>/sequences/list.txt
  <ws>/sequences/<seq>/sequence     channels.color=color/%08d.<ext>, fps, length, width, height
  <ws>/sequences/<seq>/color/       frames 00000001.<ext> ... (symlinks, or copies)
  <ws>/sequences/<seq>/groundtruth.txt   x,y,w,h / polygon lines, or mask lines (DAVIS)
  <ws>/sequences/<seq>/<tag>.tag, anchor.value
The anchors are the source's anchor.value when the sequence folder has one (VOT2020 and later),
else pysiam's ``default_anchors``.
"""
from __future__ import annotations

import configparser
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

import numpy as np

from pysiam.vot.rle import encode_mask
from pysiam.vot.sources import first_object_id, video_anchor_values

__all__ = ["build_workspace", "write_sequence", "write_stack", "write_trackers_ini",
           "groundtruth_lines", "STACK_NAME"]

STACK_NAME = "pysiam_multistart"


def _region_line(row: np.ndarray) -> str:
    row = np.asarray(row, dtype=np.float64)
    if np.isnan(row).all():
        return "0"
    vals = row[~np.isnan(row)]
    return ",".join(repr(float(v)) for v in vals)


def groundtruth_lines(video, n: int, object_id: Optional[int] = None) -> List[str]:
    """The first ``n`` ground-truth lines: boxes / polygons, or masks of ``object_id`` (DAVIS;
    default: the smallest object id of the first annotation)."""
    if video.gt is not None:
        return [_region_line(video.gt[i]) for i in range(n)]
    if not video.mask_paths:
        raise ValueError(f"video {video.name} has neither boxes nor masks")
    if object_id is None:
        object_id = first_object_id(video)
    lines = []
    for i in range(n):
        if i < len(video.mask_paths):
            lines.append(encode_mask(video.read_mask(i) == object_id))
        else:
            lines.append("0")
    return lines


def _link_frames(paths: Sequence[str], folder: Path, copy: bool) -> str:
    ext = Path(paths[0]).suffix.lower() or ".jpg"
    folder.mkdir(parents=True, exist_ok=True)
    for i, src in enumerate(paths, 1):
        dst = folder / f"{i:08d}{ext}"
        if dst.is_symlink() or dst.exists():
            dst.unlink()
        if copy:
            shutil.copyfile(src, dst)
        else:
            os.symlink(os.path.abspath(src), dst)
    return ext


def write_sequence(video, folder: Path, max_frames: Optional[int] = None, anchor_spacing: int = 50,
                   object_id: Optional[int] = None, copy: bool = False) -> int:
    """One toolkit sequence folder; returns its number of frames."""
    n = len(video) if max_frames is None else min(len(video), int(max_frames))
    if n < 2:
        raise ValueError(f"video {video.name}: needs at least 2 frames, has {n}")
    folder.mkdir(parents=True, exist_ok=True)
    ext = _link_frames(video.img_paths[:n], folder / "color", copy)
    (folder / "groundtruth.txt").write_text("\n".join(groundtruth_lines(video, n, object_id)) + "\n")
    w, h = video.image_size
    meta = {"channels.color": f"color/%08d{ext}", "fps": 30, "format": "default", "length": n,
            "name": video.name, "width": w, "height": h}
    (folder / "sequence").write_text("".join(f"{k}={v}\n" for k, v in meta.items()))
    for tag, values in sorted(video.tags.items()):
        vals = [int(v) for v in np.asarray(values)[:n]]
        (folder / f"{tag}.tag").write_text("".join(f"{v}\n" for v in vals))
    anchors = video_anchor_values(video, n, anchor_spacing)
    (folder / "anchor.value").write_text("".join(f"{int(v)}\n" for v in anchors))
    return n


def write_stack(path: Path, low: int, high: int, unsupervised: bool = False,
                supervised: bool = False, title: str = "pysiam local multistart stack") -> Path:
    """A stack file without a dataset URL (nothing to download)."""
    if not 0 <= low < high:
        raise ValueError(f"EAO interval needs 0 <= low < high, got [{low}, {high}]")
    lines = [f"title: {title}", "experiments:", "  baseline:", "    type: multistart",
             "    analyses:",
             "      - type: multistart_eao_score", "        name: eaoscore",
             f"        low: {low}", f"        high: {high}",
             "      - type: multistart_eao_curve", "        name: eaocurve", f"        high: {high}",
             "      - type: multistart_average_ar", "        name: ar"]
    if unsupervised:
        lines += ["  unsupervised:", "    type: unsupervised", "    repetitions: 1", "    analyses:",
                  "      - type: average_accuracy", "        name: accuracy", "        burnin: 1"]
    if supervised:                       # the VOT2013-2019 reset protocol
        lines += ["  supervised:", "    type: supervised", "    repetitions: 1", "    skip_initialize: 5",
                  "    analyses:", "      - type: supervised_average_ar", "        sensitivity: 30",
                  "      - type: supervised_eao_score", f"        low: {low}", f"        high: {high}",
                  "      - type: supervised_eao_curve"]
    path.write_text("\n".join(lines) + "\n")
    return path


def build_workspace(dataset: str, root: str | Path, workspace: str | Path, *,
                    videos: Optional[Iterable[str]] = None, max_frames: Optional[int] = None,
                    anchor_spacing: int = 50, object_id: Optional[int] = None, copy: bool = False,
                    low: int = 115, high: int = 755, unsupervised: bool = False,
                    supervised: bool = False, stack: str = STACK_NAME, **dataset_options) -> Path:
    """Write a complete workspace from ``build_dataset(dataset, root)``; returns its folder.
    An existing workspace keeps its other sequences (list.txt is extended) and its results;
    the stack and config.yaml are rewritten."""
    from pysiam.datasets import build_dataset

    ws = Path(workspace).resolve()
    ds = build_dataset(dataset, root, videos=list(videos) if videos else None, **dataset_options)
    seq_root = ws / "sequences"
    seq_root.mkdir(parents=True, exist_ok=True)
    listed = seq_root / "list.txt"
    names = [l.strip() for l in listed.read_text().splitlines() if l.strip()] if listed.is_file() else []
    for video in ds:
        write_sequence(video, seq_root / video.name, max_frames, anchor_spacing, object_id, copy)
        if video.name not in names:
            names.append(video.name)
    (seq_root / "list.txt").write_text("".join(f"{n}\n" for n in names))
    write_stack(ws / f"{stack}.yaml", low, high, unsupervised, supervised)
    (ws / "config.yaml").write_text(f"registry:\n- .\nstack: {stack}.yaml\nsequences: sequences\n")
    return ws


def _repo_root() -> Path:
    return Path(__file__).resolve().parent.parent.parent


def write_trackers_ini(directory: str | Path, name: str, config: str, snapshot: str = "",
                       extra: Sequence[str] = (), python: Optional[str] = None,
                       threads: Optional[int] = 1) -> Path:
    """Add (or replace) section ``name`` of <directory>/trackers.ini: a TraX tracker running
    ``<python> -m pysiam.vot --config ... [--snapshot ...]`` with PYTHONPATH pointing at this
    pysiam, so that the toolkit's empty working folder and missing shell do not matter."""
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"tracker name must be letters, digits, '_' or '-': {name!r}")
    if not config:
        raise ValueError("--config is required for a trackers.ini entry")
    cfg_arg = str(Path(config).resolve()) if Path(config).is_file() else config
    cmd = [python or sys.executable, "-m", "pysiam.vot", "--config", cfg_arg, "--name", name]
    if snapshot:
        if not Path(snapshot).is_file():
            raise FileNotFoundError(f"snapshot not found: {snapshot}")
        cmd += ["--snapshot", str(Path(snapshot).resolve())]
    if threads and "--threads" not in extra:
        cmd += ["--threads", str(threads)]
    cmd += list(extra)
    path = Path(directory) / "trackers.ini"
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    if path.is_file():
        parser.read(path)
    parser[name] = {"label": name, "protocol": "trax",
                    "command": " ".join(shlex.quote(c) for c in cmd).replace("%", "%%"),
                    "env_PYTHONPATH": str(_repo_root()).replace("%", "%%")}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        parser.write(f)
    return path
