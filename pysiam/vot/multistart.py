"""VOT2020+ multistart (anchor-based) protocol and its analysis, as vot-toolkit 0.7.4 defines them.

Protocol: every anchor frame ``a`` of a sequence starts one run (anchor value > 0: forward over
frames a, a+1, ..., n-1; < 0: backward over a, a-1, ..., 0). The tracker is initialised on the
run's first frame (recorded as the special code 1) and tracks every later frame, never reset.

Analysis of one run (overlaps bounded by the image; the init frame counts as overlap 0): the run
fails at the first stretch of ``grace`` = 10 consecutive frames whose overlap is <= 0.1 (frames
with an empty ground truth interrupt a stretch); ``progress`` is the index where that stretch
starts, else the run's length. Per sequence, with sums over its runs: accuracy =
sum(overlaps[:progress]) / sum(progress), robustness = sum(progress) / sum(run lengths). The
dataset's accuracy weights sequences by sum(progress), its robustness by their frame counts.
EAO: per sequence a curve over lengths j = 1 .. high-1 averages, over the runs, the mean overlap
of frames 1..j (a failed run has zeros from ``progress`` on and counts at every j, its sum over
j - 1 past its end; a successful run counts only while j < its length); sequences are pooled by
those counts, and the score is the mean of the pooled curve over j = low .. high-1.

Use in a test tool (the protocol registry calls these; all are self-contained):

    anchors = anchor_runs(video_anchors(values))              # [(frame, reverse), ...]
    result = drive(multistart_job(gt, video.read_frame, anchors), tracker)
    write_multistart_result(run_dir(out, dataset, tracker_name, video.name), video.name, result)
    multistart_done(run_dir(...), video.name, anchors)         # resume check
    runs = read_multistart_runs(run_dir(...), video.name, anchors)   # also a workspace's folder
    seq = score_sequence(runs, gt, (width, height), high=755)
    summary = summarize({name: seq, ...}, low=115, high=755)   # {'eao', 'accuracy', 'robustness', ...}
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Generator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from pysiam.utils.bbox import init_box_from_region
from pysiam.vot.regions import (INIT, Region, is_empty, mask_region, polygon, read_trajectory,
                                rectangle, region_overlaps, special, write_trajectory)

__all__ = ["find_anchors", "anchor_runs", "default_anchors", "run_frames", "init_box",
           "tracker_region", "multistart_job", "MultistartRun", "MultistartResult", "run_dir",
           "run_name", "write_multistart_result", "multistart_done", "read_multistart_runs",
           "score_run", "score_sequence", "SequenceScore", "SequenceRuns", "sequence_runs",
           "summarize", "eao_partial"]

Job = Generator[Any, Any, Any]
Anchor = Tuple[int, bool]          # (frame, reverse)


# ---------------------------------------------------------------------------- anchors
def find_anchors(values: Sequence[float]) -> Tuple[List[int], List[int]]:
    """Forward (> 0) and backward (< 0) anchor frames of an ``anchor.value`` column."""
    fwd = [i for i, v in enumerate(values) if v > 0]
    bwd = [i for i, v in enumerate(values) if v < 0]
    return fwd, bwd


def anchor_runs(values: Sequence[float]) -> List[Anchor]:
    """The runs in the toolkit's order: forward anchors first, then backward ones."""
    fwd, bwd = find_anchors(values)
    if not fwd and not bwd:
        raise ValueError("sequence has no anchor (anchor.value is all zero)")
    return [(f, False) for f in fwd] + [(b, True) for b in bwd]


def default_anchors(length: int, spacing: int = 50) -> List[int]:
    """pysiam's anchor column for a sequence without one: an anchor every ``spacing`` frames
    from frame 0, forward (1) in the first half of the sequence, backward (-1) in the second."""
    if length < 1 or spacing < 1:
        raise ValueError(f"need length >= 1 and spacing >= 1, got {length}, {spacing}")
    values = [0] * length
    for f in range(0, length, spacing):
        values[f] = 1 if f < length / 2 else -1
    if length > 1 and values[length - 1] == 0 and spacing < length:
        values[length - 1] = -1
    return values


def run_frames(anchor: int, reverse: bool, length: int) -> List[int]:
    """Frame indices of one run, in tracking order."""
    return list(range(anchor, -1, -1)) if reverse else list(range(anchor, length))


def run_name(video: str, anchor: int) -> str:
    return "%s_%08d" % (video, anchor)


# ---------------------------------------------------------------------------- protocol
def init_box(region: Region) -> List[float]:
    """Tracker init box (x, y, w, h) from a region: rectangles and 4-point polygons as pysot's
    ``init_box_from_region``; other polygons by their bounding box; masks by the bounding box of
    their pixels (x0, y0, x1 - x0 + 1, y1 - y0 + 1)."""
    if region.kind == "rectangle":
        return init_box_from_region([float(v) for v in region.data])
    if region.kind == "polygon":
        pts = region.data.astype(np.float64)
        if len(pts) == 4:
            return init_box_from_region(pts.ravel())
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        return init_box_from_region([x0, y0, x1 - x0, y1 - y0])
    if region.kind == "mask":
        ys, xs = np.nonzero(region.data)
        if len(xs) == 0:
            raise ValueError("cannot initialise on an empty mask")
        x0, y0 = xs.min() + region.offset[0], ys.min() + region.offset[1]
        return init_box_from_region([float(x0), float(y0), float(xs.max() - xs.min() + 1),
                                     float(ys.max() - ys.min() + 1)])
    raise ValueError(f"cannot initialise on a {region.kind} region (code {region.code})")


def tracker_region(res: Mapping[str, Any], output: str = "auto") -> Region:
    """The region a tracker's ``track()`` result reports: 'rectangle' (its bbox), 'polygon'
    (its rotated polygon), 'mask' (its binary mask), or 'auto' (mask when it has one)."""
    if output == "auto":
        output = "mask" if res.get("mask_binary") is not None else "rectangle"
    if output == "mask":
        return mask_region(np.asarray(res["mask_binary"]), optimize=True)
    if output == "polygon":
        return polygon(np.asarray(res["polygon"], dtype=np.float64).ravel())
    if output == "rectangle":
        return rectangle(*[float(v) for v in res["bbox"]])
    raise ValueError(f"output must be auto, rectangle, polygon or mask, not {output!r}")


@dataclass
class MultistartRun:
    anchor: int
    reverse: bool
    regions: List[Region] = field(default_factory=list)
    times: List[float] = field(default_factory=list)


@dataclass
class MultistartResult:
    """One video's runs, in the toolkit's order."""
    runs: List[MultistartRun] = field(default_factory=list)

    @property
    def times(self) -> List[float]:
        """Every frame's time of every run, in run order (what the tools' speed reports read)."""
        return [t for r in self.runs for t in r.times]


def _steps():
    """pysiam's protocol step classes (imported late: the protocol registry may import this module)."""
    try:
        from pysiam.protocols.steps import Init, Track
    except ImportError:
        from pysiam.runner.protocols import Init, Track
    return Init, Track


def multistart_job(gt: Sequence[Region], read_frame: Callable[[int], np.ndarray],
                   anchors: Sequence[Anchor], output: str = "auto") -> Job:
    """Multistart as a step generator: yields Init / Track, returns a MultistartResult.

    gt: the ground-truth region of every frame (its length is the sequence's); read_frame(i):
    frame i as a BGR array (frames are read in both directions); anchors: (frame, reverse).
    Run it with pysiam's ``drive(job, tracker)`` (or the batched engine).
    """
    Init, Track = _steps()
    out = MultistartResult()
    for anchor, reverse in anchors:
        run = MultistartRun(anchor, reverse)
        for k, idx in enumerate(run_frames(anchor, reverse, len(gt))):
            img = read_frame(idx)
            if k == 0:
                _, dt = yield Init(img, init_box(gt[idx]))
                run.regions.append(special(INIT))
            else:
                res, dt = yield Track(img)
                run.regions.append(tracker_region(res, output))
            run.times.append(float(dt))
        out.runs.append(run)
    return out


# ---------------------------------------------------------------------------- files
def run_dir(results: str | Path, dataset: str, tracker: str, video: str) -> Path:
    """pysiam's folder of one video's runs: <results>/<dataset>/<tracker>/multistart/<video>
    (the same files as a toolkit workspace's results/<tracker>/<experiment>/<video>)."""
    return Path(results) / dataset / tracker / "multistart" / video


def write_multistart_result(folder: str | Path, video: str, result: MultistartResult) -> List[Path]:
    """<video>_<anchor:08d>.txt (text trajectory) and <video>_<anchor:08d>_time.value per run."""
    from pysiam.utils.atomic import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for run in result.runs:
        name = run_name(video, run.anchor)
        atomic_write_text(folder / f"{name}_time.value", "".join(f"{t!r}\n" for t in run.times))
        paths.append(write_trajectory(folder / f"{name}.txt", run.regions))
    return paths


def _trajectory_file(folder: Path, video: str, anchor: int) -> Optional[Path]:
    for ext in (".bin", ".txt"):
        p = folder / f"{run_name(video, anchor)}{ext}"
        if p.is_file():
            return p
    return None


def multistart_done(folder: str | Path, video: str, anchors: Sequence[Anchor]) -> bool:
    """Whether every run of ``video`` has a trajectory file in ``folder``."""
    return all(_trajectory_file(Path(folder), video, a) is not None for a, _ in anchors)


def read_multistart_runs(folder: str | Path, video: str,
                         anchors: Sequence[Anchor]) -> Dict[Anchor, List[Region]]:
    """The trajectories of a video's runs (pysiam's .txt or the toolkit's .bin / .txt)."""
    folder = Path(folder)
    runs = {}
    for a, rev in anchors:
        p = _trajectory_file(folder, video, a)
        if p is None:
            raise FileNotFoundError(f"{folder}: no trajectory {run_name(video, a)}.bin/.txt")
        runs[(a, rev)] = read_trajectory(p)
    return runs


# ---------------------------------------------------------------------------- analysis
def score_run(trajectory: Sequence[Region], gt: Sequence[Region], size: Tuple[int, int],
              threshold: float = 0.1, grace: int = 10) -> Tuple[List[float], int]:
    """(overlaps, progress) of one run; ``gt`` is the run's ground truth in tracking order."""
    if len(trajectory) != len(gt):
        raise ValueError(f"trajectory has {len(trajectory)} regions, the run {len(gt)} frames")
    overlaps = region_overlaps(trajectory, gt, size)
    left, progress = grace, len(gt)
    for j, ov in enumerate(overlaps):
        if ov <= threshold and not is_empty(gt[j]):
            left -= 1
            if left == 0:
                progress = j + 1 - grace
                break
        else:
            left = grace
    return overlaps, progress


def eao_partial(overlaps: Sequence[Sequence[float]], success: Sequence[bool],
                high: int) -> Tuple[List[float], List[float]]:
    """One sequence's EAO curve and its per-length run counts (the toolkit's ``compute_eao_partial``)."""
    phi, active = [0.0] * high, [0.0] * high
    for o, ok in zip(overlaps, success):
        o = np.asarray(o, dtype=np.float64)
        for j in range(1, high):
            if j < len(o):
                phi[j] += float(np.mean(o[1:j + 1]))
                active[j] += 1
            elif not ok:
                phi[j] += float(np.sum(o[1:len(o)])) / (j - 1)
                active[j] += 1
    return [p / a if a > 0 else 0 for p, a in zip(phi, active)], active


@dataclass
class SequenceScore:
    """A sequence's multistart scores and the weights the dataset summary pools them with."""
    accuracy: float
    robustness: float
    progress: int            # sum of the runs' progress (accuracy weight)
    length: int              # frames of the sequence (robustness weight)
    total: int               # sum of the runs' lengths
    curve: List[float]
    active: List[float]

    def as_dict(self) -> Dict[str, Any]:
        return {"accuracy": self.accuracy, "robustness": self.robustness, "progress": self.progress,
                "length": self.length, "runs_frames": self.total}


@dataclass
class SequenceRuns:
    """What the analysis keeps of a sequence's runs: overlaps (zero after a failure), success
    flags, the accuracy sum and progress; :meth:`score` turns it into a SequenceScore."""
    overlaps: List[List[float]]
    success: List[bool]
    accuracy_sum: float
    progress: int
    total: int
    length: int

    def score(self, high: int) -> SequenceScore:
        curve, active = eao_partial(self.overlaps, self.success, high)
        p = self.progress
        return SequenceScore(self.accuracy_sum / p if p > 0 else 0, p / self.total, p,
                             self.length, self.total, curve, active)


def sequence_runs(runs: Mapping[Anchor, Sequence[Region]], gt: Sequence[Region],
                  size: Tuple[int, int], threshold: float = 0.1, grace: int = 10) -> SequenceRuns:
    """Overlaps and failures of a sequence's runs {(anchor, reverse): trajectory}."""
    acc, prog_sum, total = 0.0, 0, 0
    all_overlaps, success = [], []
    for (anchor, reverse), traj in runs.items():
        frames = run_frames(anchor, reverse, len(gt))
        overlaps, progress = score_run(traj, [gt[i] for i in frames], size, threshold, grace)
        prog_sum += progress
        acc += sum(overlaps[0:progress])
        total += len(frames)
        ok = progress >= len(overlaps)
        if not ok:
            overlaps = overlaps[:progress] + [0.0] * (len(overlaps) - progress)
        all_overlaps.append(overlaps)
        success.append(ok)
    return SequenceRuns(all_overlaps, success, acc, prog_sum, total, len(gt))


def score_sequence(runs: Mapping[Anchor, Sequence[Region]], gt: Sequence[Region],
                   size: Tuple[int, int], high: int, threshold: float = 0.1,
                   grace: int = 10) -> SequenceScore:
    """AR and the EAO curve (lengths < ``high``) of one sequence from its runs."""
    return sequence_runs(runs, gt, size, threshold, grace).score(high)


def summarize(scores: Mapping[str, SequenceScore], low: int, high: int) -> Dict[str, Any]:
    """Dataset EAO (mean of the pooled curve over low .. high-1), accuracy and robustness."""
    if not scores:
        raise ValueError("no sequence to summarise")
    curve, weight = [0.0] * high, [0.0] * high
    ta = tr = wa = wr = 0.0
    for s in scores.values():
        for i, (e, a) in enumerate(zip(s.curve, s.active)):
            curve[i] += e * a
            weight[i] += a
        ta += s.accuracy * s.progress
        tr += s.robustness * s.length
        wa += s.progress
        wr += s.length
    pooled = [e / w if w > 0 else 0 for e, w in zip(curve, weight)]
    return {"eao": float(np.mean(pooled[low:high + 1])), "accuracy": ta / wa if wa else 0.0,
            "robustness": tr / wr, "eao_curve": pooled, "low": low, "high": high}
