"""The search loop: trial list -> this shard's unfinished trials -> worker processes -> table.

Sharding: trial i belongs to shard i mod N (``--shard i/N`` or torchrun's RANK / WORLD_SIZE);
every shard appends to its own table file in the shared search folder and, when done, rewrites
the merged reports from all files it sees. Inside a shard, ``workers`` processes (spawned, one
model each, devices assigned round-robin) take trials one at a time; the parent records each
result as soon as it arrives.
"""
from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from pysiam.results.files import atomic_write_text
from pysiam.tune.report import format_opts, override_opts, write_reports
from pysiam.tune.space import SearchSpace, Trial
from pysiam.tune.table import TrialTable, read_records
from pysiam.tune.trial import EvalSetup, TrialEvaluator

__all__ = ["SearchResult", "run_search", "write_search_reports", "check_fingerprint",
           "TEST_SET_WARNING"]

logger = logging.getLogger("pysiam.tune")

TEST_SET_WARNING = ("tuning on the benchmark's own test videos: the best score found is an "
                    "optimistic estimate, not a fair evaluation (the setting is fitted to these "
                    "videos). Tune on a validation split (--val-videos, --videos-file or "
                    "--val-fraction) and report the numbers on the remaining videos or another "
                    "benchmark.")


@dataclass
class SearchResult:
    """What a call of :func:`run_search` did and found."""

    folder: Path
    trials: List[Trial]
    evaluated: List[str] = field(default_factory=list)      # keys evaluated by this call
    skipped: List[str] = field(default_factory=list)        # keys already in the table
    records: Dict[str, dict] = field(default_factory=dict)  # the whole table after this call
    best: Optional[dict] = None


def _fingerprint(setup: EvalSetup, space: SearchSpace) -> dict:
    """What must not change between runs that share a search folder."""
    cfg = setup.cfg.clone()
    if cfg.is_frozen():
        cfg.defrost()
    for key in space.keys:                # the searched values are per trial
        sect, leaf = key.rsplit(".", 1)
        node = cfg
        for part in sect.split("."):
            node = node[part]
        node.pop(leaf, None)
    return {"searched": sorted(space.keys), "dataset": setup.dataset.name, "protocol": setup.dataset.protocol,
            "videos": setup.dataset.names, "metric": setup.metric, "skip": setup.skip,
            "eao_window": setup.eao_window, "snapshot": setup.snapshot,
            "config": json.loads(json.dumps(cfg, default=str))}


def check_fingerprint(folder: Path, fp: dict) -> None:
    """Write search.json, or compare with the one there; a different set-up is an error."""
    path = folder / "search.json"
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except ValueError:
            old = None
        if old is not None:
            diff = [k for k in sorted(set(fp) | set(old)) if fp.get(k) != old.get(k)]
            if diff:
                raise ValueError(f"{folder} holds a search with a different set-up ({', '.join(diff)} "
                                 f"differ, see {path}); use another --output folder")
            return
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(fp, indent=1, sort_keys=True) + "\n")


def _header(setup: EvalSetup) -> List[str]:
    ds = setup.dataset
    split = setup.validation or "ALL videos of the test set: NOT a fair evaluation of this setting"
    lines = [f"pysiam tune: {ds.name} ({ds.protocol}), {len(ds)} video(s) - {split}"]
    if setup.snapshot:
        lines.append(f"snapshot: {setup.snapshot}")
    return lines


def write_search_reports(folder: Path, setup: EvalSetup, space: SearchSpace,
                         plot: bool = True) -> Optional[dict]:
    """Merged reports (csv, best.yaml / .json, plot) from all table files in ``folder``."""
    records = read_records(folder)
    log_keys = [p.key for p in space.params if p.log]
    return write_reports(folder, records, setup.metric, space.keys, config_ref=setup.config_ref,
                         base_opts=setup.opts, header=_header(setup), plot=plot, log_keys=log_keys,
                         title=f"{setup.dataset.name}: {setup.metric} of {len(records)} trial(s)")


# ------------------------------------------------------------------------------ worker processes
_WORKER: Optional[TrialEvaluator] = None


def _worker_init(setup: EvalSetup, devices, threads: int) -> None:
    global _WORKER
    import torch

    torch.set_num_threads(max(1, threads))
    device = devices.get() if devices is not None else None
    _WORKER = TrialEvaluator(setup, device)


def _worker_run(trial: Trial) -> dict:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.run(trial)


def _evaluate(setup: EvalSetup, todo: List[Trial], workers: int, devices: Optional[Sequence[str]],
              model=None):
    """Yield (trial, record) as trials finish."""
    if not todo:
        return
    if workers <= 1 or len(todo) <= 1:
        dev = devices[0] if devices else None
        ev = TrialEvaluator(setup, dev, model=model)
        for t in todo:
            yield t, ev.run(t)
        return
    import multiprocessing as mp

    n = min(workers, len(todo))
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    for i in range(n):
        queue.put(devices[i % len(devices)] if devices else None)
    threads = max(1, (os.cpu_count() or 1) // n)
    by_key = {t.key: t for t in todo}
    pool = ctx.Pool(n, initializer=_worker_init, initargs=(setup, queue, threads))
    try:
        for rec in pool.imap_unordered(_worker_run, todo, chunksize=1):
            yield by_key[rec["key"]], rec
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def run_search(setup: EvalSetup, space: SearchSpace, folder: Union[str, Path], *, shard: Tuple[int, int] = (0, 1),
               workers: int = 1, devices: Optional[Sequence[str]] = None,
               max_trials: Optional[int] = None, model: Any = None, plot: bool = True) -> SearchResult:
    """Evaluate this shard's unfinished trials of ``space`` and write the reports in ``folder``.

    ``max_trials`` stops after that many new trials (the table keeps them: a later call goes on).
    ``model`` (single process only) uses that model object instead of ``setup.model_factory()``.
    """
    folder = Path(folder)
    rank, world = shard
    if not 0 <= rank < world:
        raise ValueError(f"shard {rank}/{world}: need 0 <= i < N")
    if model is not None and workers > 1:
        raise ValueError("a model object can only be used with workers=1 (worker processes build "
                         "their own from setup.model_factory)")
    ds = setup.dataset
    if not len(ds):
        raise ValueError(f"{ds.name}: no videos to tune on")
    if any(v.meta.get("gt_complete") is False for v in ds):
        raise ValueError(f"{ds.name}: the ground truth of this split is withheld (first frame only); "
                         f"tune on a split with annotations (e.g. GOT-10k val)")
    check_fingerprint(folder, _fingerprint(setup, space))
    trials = space.trial_list()
    table = TrialTable(folder, shard)
    done = table.load()
    mine = [t for t in trials if t.index % world == rank]
    todo = [t for t in mine if t.key not in done]
    result = SearchResult(folder, trials, skipped=[t.key for t in mine if t.key in done])
    if max_trials is not None:
        todo = todo[:max(0, max_trials)]
    logger.info("%s: %d trial(s), %d in shard %d/%d, %d already recorded, %d to run%s",
                space.describe(), len(trials), len(mine), rank, world, len(result.skipped),
                len(todo), f" with {workers} worker(s)" if todo and workers > 1 else "")
    for i, (trial, rec) in enumerate(_evaluate(setup, todo, workers, devices, model), 1):
        table.append(rec)
        result.evaluated.append(trial.key)
        logger.info("[%d/%d] %s %s = %.4f  (%s)  %.1fs, %.1f fps", i, len(todo), trial.name,
                    setup.metric, rec["score"] if rec["score"] is not None else math.nan,
                    format_opts(override_opts(trial.params)), rec["seconds"], rec["fps"] or 0.0)
        write_search_reports(folder, setup, space, plot=False)
    result.best = write_search_reports(folder, setup, space, plot=plot)
    result.records = read_records(folder)
    if result.best is not None:
        b = result.best
        score = b["score"] if b["score"] is not None else math.nan
        logger.info("best of %d trial(s): %s = %.4f with %s  (written: %s)", len(result.records),
                    setup.metric, score, format_opts(override_opts(b["params"], setup.opts)),
                    folder / "best.yaml")
    return result
