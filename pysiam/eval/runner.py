"""Score tracker result folders against a dataset: result discovery, a process pool over
trackers x videos, and the per-protocol aggregation into one dict per tracker."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from pysiam.datasets.masks import read_label_png
from pysiam.datasets.registry import get_spec
from pysiam.results.files import (find_ope_result, find_run_files, list_trackers,
                                          read_boxes, read_confidences, read_vot_records)
from pysiam.datasets.video import Dataset
from pysiam.eval.davis import davis_sequence_scores, davis_summary
from pysiam.eval.got10k import got10k_summary, got10k_video_ious
from pysiam.eval.ope import PRECISION_AT, ope_summary, ope_video_scores
from pysiam.eval.vot import (longterm_summary, longterm_video_scores, vot_summary,
                             vot_video_scores)

__all__ = ["evaluate", "find_trackers", "results_base"]


def results_base(results: str | os.PathLike, dataset: Dataset) -> Path:
    """The folder holding one sub-folder per tracker: <results>/<DATASET> (pysot's name or an
    alias), else <results> itself (the DAVIS layout <results>/<tracker>/<video>/)."""
    results = Path(results)
    spec = get_spec(dataset.name)
    for name in (dataset.name, *spec.json_names, *spec.aliases):
        if (results / name).is_dir():
            return results / name
    if not results.is_dir():
        raise FileNotFoundError(f"results folder not found: {results}")
    return results


def find_trackers(results: str | os.PathLike, dataset: Dataset, wanted=None) -> list[str]:
    """Tracker folders under the results base, optionally filtered by names or glob patterns."""
    import fnmatch

    found = list_trackers(results_base(results, dataset))
    if wanted:
        keep = [t for t in found if any(fnmatch.fnmatchcase(t, w) or t == w for w in wanted)]
        missing = [w for w in wanted if not any(fnmatch.fnmatchcase(t, w) or t == w for t in found)]
        if missing:
            raise FileNotFoundError(f"no results for tracker(s) {', '.join(missing)} under "
                                    f"{results_base(results, dataset)} (found: {', '.join(found) or 'none'})")
        found = keep
    if not found:
        raise FileNotFoundError(f"no tracker folders under {results_base(results, dataset)}")
    return found


# --------------------------------------------------------------------------- jobs
def _job(protocol: str, tdir: Path, video) -> dict:
    """Everything a worker needs to score one (tracker, video), all picklable."""
    job = {"protocol": protocol, "dir": str(tdir), "video": video.name}
    if protocol == "davis":
        job.update(masks=video.mask_paths, binary=video.meta.get("year") == 2016,
                   frame_ids=[Path(m).stem for m in video.mask_paths], trackers=[str(tdir)])
        return job
    job.update(gt=video.gt, visible=video.visible)
    if protocol in ("vot", "vot-lt", "got10k"):
        job["size"] = video.image_size
    if protocol == "vot":
        job["tags"] = video.tags
    return job


def _score(job: dict):
    p, d, name = job["protocol"], Path(job["dir"]), job["video"]
    if p == "ope":
        path = find_ope_result(d, name)
        try:
            return ope_video_scores(job["gt"], read_boxes(path), job["visible"])
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
    if p == "vot":
        files = find_run_files(d / "baseline" / name, name)
        runs = [read_vot_records(f) for f in files]
        return vot_video_scores(runs, job["gt"], job["size"], job["tags"])
    if p == "vot-lt":
        box_path = d / "longterm" / name / f"{name}_001.txt"
        conf_path = d / "longterm" / name / f"{name}_001_confidence.value"
        if not box_path.is_file():
            raise FileNotFoundError(f"no result for video {name}: {box_path}")
        codes, regions = read_vot_records(box_path)
        conf = read_confidences(conf_path, len(codes))
        return longterm_video_scores(codes, regions, conf, job["gt"], job["size"])
    if p == "got10k":
        folder = d / name
        files = find_run_files(folder, name) if folder.is_dir() else [find_ope_result(d, name)]
        try:
            return got10k_video_ious([read_boxes(f) for f in files], job["gt"], job["size"],
                                     job["visible"])
        except ValueError as err:
            raise ValueError(f"{files[0]}: {err}") from None
    if p == "davis":                     # one job per video for all trackers: gt read once
        gts = [read_label_png(m) for m in job["masks"]]
        out = {}
        for tdir in map(Path, job["trackers"]):
            res = []
            for fid in job["frame_ids"][1:-1]:
                path = tdir / name / f"{fid}.png"
                if not path.is_file():
                    raise FileNotFoundError(f"no result mask for {name} frame {fid}: {path}")
                res.append(read_label_png(path))
            out[tdir.name] = davis_sequence_scores(gts, res, job["binary"], where=str(tdir / name))
        return out
    raise ValueError(f"unknown protocol {p!r}")


def _run_jobs(jobs: list[dict], workers: int) -> list:
    if workers <= 1 or len(jobs) <= 1:
        return [_score(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(_score, jobs, chunksize=max(1, len(jobs) // (8 * workers))))


# --------------------------------------------------------------------------- aggregation
def _ope_result(per_video: dict, dataset: Dataset) -> dict:
    out = ope_summary(per_video)
    out["per_attribute"] = {}
    for attr, names in dataset.attributes.items():
        s = ope_summary(per_video, names)
        if s:
            out["per_attribute"][attr] = {k: s[k] for k in
                                          ("success_auc", "precision", "norm_precision", "num_videos")}
            out["per_attribute"][attr]["success_curve"] = s["success_curve"]
            out["per_attribute"][attr]["precision_curve"] = s["precision_curve"]
    out["per_video"] = {v: {"success_auc": float(np.mean(r["success"])),
                            "precision": float(r["precision"][PRECISION_AT]),
                            "norm_precision": float(r["norm_precision"][PRECISION_AT])}
                        for v, r in sorted(per_video.items())}
    return out


def _vot_result(per_video: dict, interval, window: str) -> dict:
    out = vot_summary(per_video, interval, window)
    out["per_video"] = {v: {"accuracy": float(np.nanmean(r["overlaps"])) if np.isfinite(r["overlaps"]).any()
                            else float("nan"), "lost_number": float(np.mean(r["failures"]))}
                        for v, r in sorted(per_video.items())}
    return out


def _davis_result(per_video: dict) -> dict:
    out = davis_summary(per_video)
    out["per_frame"] = {v: {"J": r["J"].tolist(), "F": r["F"].tolist()} for v, r in sorted(per_video.items())}
    return out


def evaluate(dataset: Dataset, results: str | os.PathLike, trackers=None, *, workers: int = 1,
             eao_window: str = "pysot", eao_interval: tuple[int, int] | None = None,
             skip_missing: bool = False) -> dict[str, dict]:
    """Score every tracker under `results` (pysot layout) on `dataset`; returns {tracker: numbers}.

    eao_window: 'pysot' (indices low-1..high-1) or 'vot' (low..high); eao_interval overrides the
    dataset year's interval. With skip_missing, videos without a result file are left out (and
    listed under 'missing_videos') instead of raising FileNotFoundError.
    """
    protocol = dataset.protocol
    if protocol in ("got10k", "ope") and any(v.meta.get("gt_complete") is False for v in dataset):
        raise ValueError(f"{dataset.name}: the ground truth of this split is withheld (first frame "
                         f"only); submit the results to the benchmark's server")
    base = results_base(results, dataset)
    names = find_trackers(results, dataset, trackers)
    jobs = [_job(protocol, base / t, v) for t in names for v in dataset]
    if skip_missing:
        ok = []
        for j in jobs:
            try:
                _probe(j)
                ok.append(j)
            except FileNotFoundError:
                pass
        missing = {t: sorted({j["video"] for j in jobs if j["dir"] == str(base / t)} -
                             {j["video"] for j in ok if j["dir"] == str(base / t)}) for t in names}
        jobs = ok
    if protocol == "davis":              # merge the per-tracker jobs of a video
        merged: dict[str, dict] = {}
        for j in jobs:
            merged.setdefault(j["video"], {**j, "trackers": []})["trackers"] += j["trackers"]
        jobs = list(merged.values())
    scores = _run_jobs(jobs, workers)
    per_tracker: dict[str, dict] = {t: {} for t in names}
    for j, s in zip(jobs, scores):
        if protocol == "davis":
            for t, st in s.items():
                per_tracker[t][j["video"]] = st
        else:
            per_tracker[Path(j["dir"]).name][j["video"]] = s
    interval = eao_interval or dataset.eao_interval
    out = {}
    for t in names:
        pv = per_tracker[t]
        if not pv:
            continue
        if protocol == "ope":
            out[t] = _ope_result(pv, dataset)
        elif protocol == "vot":
            out[t] = _vot_result(pv, interval, eao_window)
        elif protocol == "vot-lt":
            out[t] = longterm_summary(pv)
        elif protocol == "got10k":
            out[t] = got10k_summary(pv)
        elif protocol == "davis":
            out[t] = _davis_result(pv)
        if skip_missing and missing[t]:
            out[t]["missing_videos"] = missing[t]
    return out


def _probe(job: dict) -> None:
    """Raise FileNotFoundError when the result file(s) of a job do not exist."""
    p, d, name = job["protocol"], Path(job["dir"]), job["video"]
    if p == "ope":
        find_ope_result(d, name)
    elif p == "vot":
        find_run_files(d / "baseline" / name, name)
    elif p == "vot-lt":
        if not (d / "longterm" / name / f"{name}_001.txt").is_file():
            raise FileNotFoundError(name)
    elif p == "got10k":
        if (d / name).is_dir():
            find_run_files(d / name, name)
        else:
            find_ope_result(d, name)
    elif p == "davis":
        if not (d / name).is_dir():
            raise FileNotFoundError(name)
