"""Tiny raw-dataset layouts written by the data preparation tests (helpers only, no tests here)."""
import json
from pathlib import Path

import cv2
import numpy as np

from pysiam.data.prepare import PrepareOptions, get_source, prepare


def write_jpg(path: Path, seed: int, size=(48, 64)) -> None:
    """A small random colour JPEG (h, w = size)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cv2.imwrite(str(path), rng.integers(0, 256, (*size, 3), dtype=np.uint8))


def write_lines(path: Path, lines) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))


def make_otb_layout(root: Path, videos=("seqA", "seqB"), n_frames=3, masks=True) -> dict:
    """OTB-style folders with masks; frame 2 of every video has an empty box. Returns masks by video."""
    all_masks = {}
    boxes = ["10,8,30,20", "12,9,30,22", "0,0,0,0", "14,10,28,20"][:n_frames]
    for v, name in enumerate(videos):
        folder = root / name
        write_lines(folder / "groundtruth_rect.txt", boxes)
        all_masks[name] = []
        for i, line in enumerate(boxes):
            write_jpg(folder / "img" / f"{i + 1:04d}.jpg", seed=10 * v + i)
            x, y, w, h = (int(s) for s in line.split(","))
            mask = np.zeros((48, 64), np.uint8)
            mask[y:y + h, x:x + w] = 255
            all_masks[name].append(mask)
            if masks:
                (folder / "mask").mkdir(exist_ok=True)
                cv2.imwrite(str(folder / "mask" / f"{i + 1:04d}.png"), mask)
    return all_masks


def run(source: str, root: Path, out: Path, split: str = "train", **kw):
    """prepare() in this process without a progress bar; returns the summary and the parsed JSON."""
    opts = PrepareOptions(out_dir=out, workers=kw.pop("workers", 1), **kw)
    summary = prepare(get_source(source, root, split), opts, progress=False)
    return summary, json.loads(summary.json_path.read_text())


def crop_files(out: Path) -> set:
    """Relative paths of every crop under out/crop511."""
    base = out / "crop511"
    return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()}


def expected_files(index: dict, masks: bool = False) -> set:
    """The crop files that a JSON index promises."""
    kinds = ("x.jpg", "z.jpg", "m.png") if masks else ("x.jpg", "z.jpg")
    return {f"{video}/{frame}.{track}.{k}" for video, tracks in index.items()
            for track, frames in tracks.items() for frame in frames for k in kinds}
