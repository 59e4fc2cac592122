"""VOT supervised (reset-based) protocol: accuracy, robustness, EAO; and VOT long-term P/R/F.

Per-frame overlaps are region overlaps rasterised on the pixel grid (pysiam.eval.region),
bounded by (W, H) for accuracy and by (W - 1, H - 1) for EAO, as pysot does.

Accuracy: result lines 1 (init) start a burn-in of 10 frames (the init frame and the next 9)
that is not scored; special lines (0, 1, 2) are not scored; per-frame overlaps are averaged
over runs, then over all frames of all videos. Robustness: failures (lines '2') / frames * 100;
lost number: failures summed over videos (mean over runs).

EAO: segments start at frame 0 and 5 frames after each failure; a segment that ends in failure
runs to the re-initialisation (inclusive), its unscored frames count 0, and it is zero-padded to
the longest sequence; the last segment keeps its length. Phi(N) is the weighted mean over
segments of the average overlap of frames 1..N (the init frame 0 excluded); a segment's weight is
the fraction of its frames carrying the tag ('all': 1, except pysot's length quirks kept here).
EAO is the mean of Phi over the interval: indices low-1..high-1 (pysot) or low..high (VOT).
"""
from __future__ import annotations

import logging
import warnings

import numpy as np

from pysiam.eval.region import pixel_extent, region_overlaps

__all__ = ["INIT", "FAILURE", "SKIPPED", "burn_in_mask", "run_overlaps", "segment_table",
           "expected_overlap_curve", "eao_from_curve", "vot_video_scores", "vot_summary",
           "determine_thresholds", "longterm_video_scores", "longterm_summary", "eao_interval_warning"]

logger = logging.getLogger(__name__)

SKIPPED, INIT, FAILURE = 0, 1, 2
BURN_IN = 10
SKIPPING = 5


def burn_in_mask(codes: np.ndarray, burn_in: int = BURN_IN) -> np.ndarray:
    """True on the `burn_in` frames starting at each initialisation line."""
    mask = np.zeros(len(codes), bool)
    for i in np.flatnonzero(codes == INIT):
        mask[i:i + burn_in] = True
    return mask


def run_overlaps(codes: np.ndarray, regions: np.ndarray, gt: np.ndarray, size: tuple[int, int],
                 burn_in: int = BURN_IN) -> tuple[np.ndarray, np.ndarray]:
    """(accuracy overlaps, EAO overlaps) of one run: NaN on special lines and on burn-in frames
    (accuracy only); accuracy is bounded by (W, H), EAO by (W - 1, H - 1). Both have
    min(len(result), len(gt)) frames."""
    n = min(len(codes), len(gt))
    codes, regions, gt = codes[:n], regions[:n], gt[:n]
    w, h = size
    scored = (codes == -1) & ~np.isnan(gt).all(axis=1)
    eao = np.full(n, np.nan)
    acc = np.full(n, np.nan)
    idx = np.flatnonzero(scored)
    if len(idx):
        pr = regions[idx][:, ~np.isnan(regions[idx]).all(axis=0)]
        g = gt[idx][:, ~np.isnan(gt[idx]).all(axis=0)]
        eao[idx] = region_overlaps(pr, g, (w - 1, h - 1))
        keep = ~burn_in_mask(codes, burn_in)[idx]
        acc[idx[keep]] = eao[idx[keep]]
        # the (W, H) bound only differs where a region reaches column W-1 / row H-1
        ext = np.maximum(pixel_extent(pr), pixel_extent(g))
        redo = keep & ((ext[:, 0] > w - 1) | (ext[:, 1] > h - 1))
        if redo.any():
            acc[idx[redo]] = region_overlaps(pr[redo], g[redo], (w, h))
    return acc, eao


def segment_table(eao_overlaps: np.ndarray, codes: np.ndarray, gt_len: int, tags: dict,
                  skipping: int = SKIPPING):
    """Segments of one run for EAO: list of (values, failed), and per tag the list of weights."""
    n = len(eao_overlaps)
    failures = np.flatnonzero(codes == FAILURE)
    segs, weights = [], {t: [] for t in tags}
    if len(failures) == 0:
        segs.append((eao_overlaps, False))
        for t, v in tags.items():
            weights[t].append(v[:n].sum() / n if n else 0.0)
        return segs, weights
    points = [0] + [int(f) + skipping for f in failures if f + skipping <= n]
    for k, p in enumerate(points):
        if k < len(points) - 1:
            q = points[k + 1]
            segs.append((np.nan_to_num(eao_overlaps[p:q + 1], nan=0.0), True))
            for t, v in tags.items():
                weights[t].append(v[p:q + 1].sum() / (q - p + 1))
        else:
            segs.append((np.nan_to_num(eao_overlaps[p:], nan=0.0), False))
            for t, v in tags.items():
                weights[t].append(v[p:n].sum() / (gt_len - p + 1e-16))
    return segs, weights


def expected_overlap_curve(segments, weights, max_len: int) -> np.ndarray:
    """Phi(N), N = 0..max_len-1: weighted mean over segments of the mean overlap of frames 1..N.

    A failed segment counts at every N (zero-padded); a finished one only while N < its length.
    """
    s = len(segments)
    table = np.full((s, max_len), np.nan)
    for r, (vals, failed) in enumerate(segments):
        if failed:
            table[r] = 0.0
        m = min(len(vals), max_len)
        table[r, :m] = vals[:m]
    w = np.asarray(weights, np.float64)
    curve = np.zeros(max_len)
    curve[0] = 1.0
    if max_len > 1:
        means = np.cumsum(table[:, 1:], axis=1) / np.arange(1, max_len)
        present = ~np.isnan(table[:, 1:])
        with np.errstate(invalid="ignore", divide="ignore"):
            num = np.where(present, means * w[:, None], 0).sum(axis=0)
            den = np.where(present, w[:, None], 0).sum(axis=0)
            has = present.any(axis=0)
            curve[1:] = np.where(has, num / den, 0.0)
    return curve


def eao_from_curve(curve: np.ndarray, interval: tuple[int, int], window: str = "pysot") -> float:
    """Mean of the curve over the interval: indices low-1..high-1 ('pysot') or low..high ('vot')."""
    low, high = interval
    lo, hi = (low - 1, high - 1) if window == "pysot" else (low, high)
    if window not in ("pysot", "vot"):
        raise ValueError(f"EAO window must be 'pysot' or 'vot', not {window!r}")
    part = curve[lo:hi + 1]
    part = part[~np.isnan(part)]
    return float(part.mean()) if len(part) else float("nan")


def eao_interval_warning(interval: tuple[int, int], max_len: int, window: str = "pysot") -> str:
    """'' when the sequences reach the EAO interval, else a sentence saying why EAO is not
    comparable: past the longest sequence Phi(N) does not exist, so EAO only averages the
    short-N part of the curve, which is high (e.g. the VOT bag alone: EAO above its accuracy)."""
    low, high = interval
    last = high - 1 if window == "pysot" else high
    if max_len > last:
        return ""
    return (f"EAO interval {low}..{high} reaches past the longest sequence ({max_len} frames): "
            f"EAO averages only Phi(N) for N < {max_len} and is not comparable to published EAO "
            f"(use a full VOT set or --eao-interval LOW HIGH within the sequence lengths)")


def vot_video_scores(runs, gt: np.ndarray, size: tuple[int, int], tags: dict,
                     burn_in: int = BURN_IN) -> dict:
    """Everything the dataset-level VOT numbers need from one video.

    runs: list of (codes, regions) from `read_vot_records`; tags: per-frame 0/1 arrays.
    """
    acc_runs, segs, fails, fail_frames = [], [], [], []
    all_tags = {"all": np.ones(len(gt)), **{t: np.asarray(v, float) for t, v in tags.items()}}
    weights = {t: [] for t in all_tags}
    for codes, regions in runs:
        acc, eao = run_overlaps(codes, regions, gt, size, burn_in)
        acc_runs.append(acc)
        s, w = segment_table(eao, codes[:len(eao)], len(gt), all_tags)
        segs += s
        for t in all_tags:
            weights[t] += [x / len(runs) for x in w[t]]
        f = np.flatnonzero(codes == FAILURE)
        fails.append(len(f))
        fail_frames.append(f)
    length = max(len(a) for a in acc_runs)
    stacked = np.full((len(acc_runs), length), np.nan)
    for r, a in enumerate(acc_runs):
        stacked[r, :len(a)] = a
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # all-NaN frames stay NaN
        per_frame = np.nanmean(stacked, axis=0)
    tag_failures = {t: float(np.mean([np.sum(v[f[f < len(v)]] > 0) for f in fail_frames]))
                    for t, v in all_tags.items()}
    return {"overlaps": per_frame, "failures": fails, "segments": segs, "weights": weights,
            "length": length, "tags": {t: v[:length] for t, v in all_tags.items()},
            "tag_failures": tag_failures}


def vot_summary(per_video: dict[str, dict], interval: tuple[int, int] | None,
                window: str = "pysot") -> dict:
    """Accuracy, robustness, lost number, EAO (and per tag) over the videos."""
    names = sorted(per_video)
    overlaps = np.concatenate([per_video[v]["overlaps"] for v in names])
    length = len(overlaps)
    lost = float(sum(np.mean(per_video[v]["failures"]) for v in names))
    out = {"accuracy": float(np.nanmean(overlaps)) if np.isfinite(overlaps).any() else float("nan"),
           "robustness": lost / length * 100 if length else float("nan"),
           "lost_number": lost, "num_videos": len(names), "num_frames": int(length)}
    segments = [s for v in names for s in per_video[v]["segments"]]
    max_len = max(per_video[v]["length"] for v in names)
    tags = list(per_video[names[0]]["weights"])
    curves = {}
    for t in tags:
        w = [x for v in names for x in per_video[v]["weights"][t]]
        curves[t] = expected_overlap_curve(segments, w, max_len)
    if interval is not None:
        out["eao"] = eao_from_curve(curves["all"], interval, window)
        out["eao_interval"] = list(interval)
        out["eao_window"] = window
        warning = eao_interval_warning(interval, max_len, window)
        if warning:
            logger.warning("%s", warning)
            out["eao_warning"] = warning
    out["eao_curve"] = curves["all"].tolist()
    per_tag = {}
    for t in tags:
        if t == "all":
            continue
        mask = np.concatenate([per_video[v]["tags"][t] > 0 for v in names])
        frames = int(mask.sum())
        if frames == 0:
            continue
        ov = overlaps[mask]
        lost_t = float(sum(per_video[v]["tag_failures"][t] for v in names))
        entry = {"accuracy": float(np.nanmean(ov)) if np.isfinite(ov).any() else float("nan"),
                 "robustness": lost_t / frames * 100, "lost_number": lost_t, "num_frames": frames}
        if interval is not None:
            entry["eao"] = eao_from_curve(curves[t], interval, window)
        per_tag[t] = entry
    out["per_attribute"] = per_tag
    return out


# --------------------------------------------------------------------------- long-term
def determine_thresholds(scores: np.ndarray, resolution: int = 100) -> np.ndarray:
    """pysot's confidence thresholds: -inf, 98 sampled sorted scores, +inf."""
    scores = np.sort(scores[~np.isnan(scores)])
    if len(scores) == 0:
        return np.array([-np.inf, np.inf])
    delta = np.floor(len(scores) / (resolution - 2))
    idx = np.floor(np.linspace(delta - 1, len(scores) - delta, resolution - 2) + 0.5).astype(np.int64)
    th = np.empty(resolution)
    th[0], th[-1] = -np.inf, np.inf
    th[1:-1] = scores[np.clip(idx, 0, len(scores) - 1)]
    return th


def longterm_video_scores(codes, regions, confidence, gt, size) -> dict:
    """Per-frame overlaps (bounded by W, H; NaN where absent or special) and confidences."""
    n = min(len(codes), len(gt), len(confidence))
    scored = (codes[:n] == -1) & ~np.isnan(gt[:n]).all(axis=1) & ~np.isnan(regions[:n]).all(axis=1)
    ov = np.full(n, np.nan)
    idx = np.flatnonzero(scored)
    if len(idx):
        pr = regions[idx][:, ~np.isnan(regions[idx]).all(axis=0)]
        g = gt[idx][:, ~np.isnan(gt[idx]).all(axis=0)]
        ov[idx] = region_overlaps(pr, g, size)
    visible = int((~np.isnan(gt).all(axis=1)).sum())
    return {"overlaps": ov, "confidence": np.asarray(confidence[:n], float), "num_visible": visible}


def _pr_curves(v: dict, thresholds: np.ndarray):
    ov = np.nan_to_num(v["overlaps"], nan=0.0)
    sc = np.nan_to_num(v["confidence"], nan=0.0)
    prec, rec = np.empty(len(thresholds)), np.empty(len(thresholds))
    for i, th in enumerate(thresholds):
        sel = sc > 0 if th == -np.inf else sc >= th
        if not sel.any():
            prec[i], rec[i] = 1.0, 0.0
        else:
            prec[i] = ov[sel].mean()
            rec[i] = ov[sel].sum() / v["num_visible"] if v["num_visible"] else 0.0
    return prec, rec


def longterm_summary(per_video: dict[str, dict]) -> dict:
    """Tracking precision / recall averaged over videos per threshold; F at the best threshold."""
    names = sorted(per_video)
    scores = np.concatenate([per_video[v]["confidence"] for v in names])
    th = determine_thresholds(scores)[::-1]
    curves = [_pr_curves(per_video[v], th) for v in names]
    p = np.mean([c[0] for c in curves], axis=0)
    r = np.mean([c[1] for c in curves], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.nan_to_num(2 * p * r / (p + r), nan=0.0)
    best = int(np.argmax(f))
    per = {}
    for v, (pv, rv) in zip(names, curves):
        with np.errstate(invalid="ignore", divide="ignore"):
            fv = np.nan_to_num(2 * pv * rv / (pv + rv), nan=0.0)
        b = int(np.argmax(fv))
        per[v] = {"precision": float(pv[b]), "recall": float(rv[b]), "f_score": float(fv[b])}
    return {"precision": float(p[best]), "recall": float(r[best]), "f_score": float(f[best]),
            "threshold": float(th[best]), "num_videos": len(names),
            "pr_curve": {"precision": p.tolist(), "recall": r.tolist()}, "per_video": per}
