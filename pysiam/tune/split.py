"""Choosing the videos a search tunes on (a validation split) and listing the held-out rest."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["read_video_list", "select_videos"]


def read_video_list(path: Union[str, Path], known: Sequence[str]) -> List[str]:
    """Video names from a text file, one per line ('#' comments and blank lines skipped)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video list not found: {path}")
    known_set = set(known)
    out: List[str] = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if name not in known_set:
            raise KeyError(f"{path}:{i}: no video {name!r} in the dataset")
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError(f"{path}: no video names in the file")
    return out


def select_videos(names: Sequence[str], val_videos: Optional[Sequence[str]] = None,
                  videos_file: Union[str, Path, None] = None, fraction: Optional[float] = None,
                  seed: int = 0) -> Tuple[List[str], str]:
    """(videos to tune on, a description of the split; '' when it is the whole set).

    At most one of: explicit names, a list file, or a random fraction of the videos (at least
    one video, chosen with ``numpy.random.default_rng(seed)``). A fraction below 1 always holds
    at least one video out (an error on a one-video set). A split that keeps every video is no
    split: its description is '' (the caller then warns that the search tunes on the test set).
    """
    given = [x is not None for x in (val_videos, videos_file, fraction)]
    if sum(given) > 1:
        raise ValueError("give only one of --val-videos, --videos-file and --val-fraction")
    names = sorted(names)
    if val_videos is not None:
        missing = [v for v in val_videos if v not in names]
        if missing:
            raise KeyError(f"--val-videos: no video(s) {', '.join(missing)} in the dataset")
        chosen = sorted(dict.fromkeys(val_videos))
        return chosen, _described(chosen, names, f"validation split: {len(chosen)} named video(s)")
    if videos_file is not None:
        chosen = sorted(read_video_list(videos_file, names))
        return chosen, _described(chosen, names, f"validation split: {len(chosen)} video(s) from {videos_file}")
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise ValueError(f"--val-fraction must be in (0, 1], got {fraction}")
        if fraction < 1 and len(names) < 2:
            raise ValueError(f"--val-fraction {fraction:g} of a {len(names)}-video set holds no video "
                             f"out: a validation split needs at least 2 videos (tune on another "
                             f"benchmark, or drop --val-fraction to tune on the test set itself)")
        k = max(1, int(round(fraction * len(names))))
        if fraction < 1:
            k = min(k, len(names) - 1)
        idx = np.random.default_rng(seed).permutation(len(names))[:k]
        chosen = sorted(names[i] for i in idx)
        return chosen, _described(chosen, names,
                                  f"validation split: {k} of {len(names)} video(s) drawn with seed {seed}")
    return list(names), ""


def _described(chosen: Sequence[str], names: Sequence[str], text: str) -> str:
    """``text``, or '' when the 'split' keeps every video (nothing is held out)."""
    return text if set(names) - set(chosen) else ""
