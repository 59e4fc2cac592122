"""Score tracker result folders against a dataset: result discovery and a process pool over
trackers x videos; reading, scoring and summarising are the protocol's (:mod:`pysiam.protocols`)."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


from pysiam.datasets.registry import get_spec
from pysiam.datasets.video import Dataset
from pysiam.protocols import ScoreOptions, Where, get_protocol
from pysiam.results.files import list_trackers

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
def _score(job: tuple):
    """Score one (tracker, video): read its result files back and score them (a worker's job)."""
    name, where, video = job
    protocol = get_protocol(name)
    scorable = protocol.read(where, video)
    try:
        return protocol.score(video, scorable)
    except ValueError as err:
        raise ValueError(f"{where.dir}: video {video.name}: {err}") from None


def _run_jobs(jobs: list, workers: int) -> list:
    if workers <= 1 or len(jobs) <= 1:
        return [_score(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(_score, jobs, chunksize=max(1, len(jobs) // (8 * workers))))


def evaluate(dataset: Dataset, results: str | os.PathLike, trackers=None, *, workers: int = 1,
             eao_window: str = "pysot", eao_interval: tuple[int, int] | None = None,
             skip_missing: bool = False) -> dict[str, dict]:
    """Score every tracker under `results` (pysot layout) on `dataset`; returns {tracker: numbers}.

    eao_window: 'pysot' (indices low-1..high-1) or 'vot' (low..high); eao_interval overrides the
    dataset year's interval. With skip_missing, videos without a result file are left out (and
    listed under 'missing_videos') instead of raising FileNotFoundError.
    """
    protocol = get_protocol(dataset.protocol)
    protocol.check_scorable(dataset)
    base = results_base(results, dataset)
    names = find_trackers(results, dataset, trackers)
    wheres = {t: Where(base.parent, base.name, t) for t in names}
    jobs = [(protocol.name, wheres[t], v) for t in names for v in dataset]
    missing: dict[str, list[str]] = {t: [] for t in names}
    if skip_missing:
        kept = []
        for job in jobs:
            if protocol.has_result(job[1], job[2]):
                kept.append(job)
            else:
                missing[job[1].tracker].append(job[2].name)
        jobs = kept
    per_tracker: dict[str, dict] = {t: {} for t in names}
    for (_, where, video), stats in zip(jobs, _run_jobs(jobs, workers)):
        per_tracker[where.tracker][video.name] = stats
    opts = ScoreOptions(eao_window, eao_interval)
    out = {}
    for t in names:
        if not per_tracker[t]:
            continue
        out[t] = protocol.summarize(per_tracker[t], dataset, opts)
        if missing[t]:
            out[t]["missing_videos"] = sorted(missing[t])
    return out
