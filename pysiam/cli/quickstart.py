"""Run pysiam end to end on synthetic data: benchmark, training, tools/test.py, tools/eval.py.

``python tools/quickstart.py`` takes a few minutes on a 2-core CPU:

1. writes the synthetic benchmark (``SYNTH``, OTB layout, :mod:`pysiam.data.synthetic`);
2. trains a small SiamRPN from scratch on other synthetic videos (generated in memory);
3. trains a SiamMask variant of it (mask branch, starting from the trained SiamRPN);
4. runs ``tools/test.py`` and ``tools/eval.py`` on the benchmark for the trained models and the
   untrained SiamRPN (its initial weights), prints the table and writes plots;
5. writes ``summary.json``: OPE success AUC and precision of every model, the check
   "trained AUC >= 0.5 and >= 2 x untrained", the time of every step.

Everything goes to ``--output`` (default ``runs/quickstart``); a rerun reuses what is complete
(benchmark videos, finished trainings, result files). ``--large`` trains longer on more data;
``--gpu`` is ``--large`` on CUDA. ``--family point`` runs the same steps for the anchor-free
family instead (a small NanoTrack-style tracker, ``quickstart_nanotrack``; no SiamMask variant).
The exit status is 1 when the check fails.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, List, Optional
from pysiam.utils.atomic import atomic_write_text

__all__ = ["main", "build_parser", "MIN_TRAINED_AUC", "MIN_GAIN"]

logger = logging.getLogger("pysiam.quickstart")

MIN_TRAINED_AUC = 0.5   # the trained SiamRPN must reach this OPE success AUC on SYNTH ...
MIN_GAIN = 2.0          # ... and at least this multiple of the untrained model's
DATASET = "SYNTH"

# (benchmark videos, configs) of the two sizes, per head family
SIZES = {
    "small": {"videos": 20, "rpn": "quickstart_siamrpn", "mask": "quickstart_siammask"},
    "large": {"videos": 40, "rpn": "quickstart_siamrpn_large", "mask": "quickstart_siammask_large"},
}
POINT_SIZES = {
    "small": {"videos": 20, "rpn": "quickstart_nanotrack", "mask": None},
    "large": {"videos": 40, "rpn": "quickstart_nanotrack", "mask": None},
}
#: the trained model's name in results and the summary, per family
MODEL_NAMES = {"anchor": "siamrpn", "point": "nanotrack"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quickstart.py", description=__doc__.split("\n")[0])
    p.add_argument("--output", default="runs/quickstart", help="output folder (default runs/quickstart)")
    p.add_argument("--large", action="store_true", help="more data, longer training (for a GPU)")
    p.add_argument("--gpu", action="store_true", help="--large on CUDA")
    p.add_argument("--device", default=None, help="torch device (default: cuda with --gpu, else cpu)")
    p.add_argument("--videos", type=int, default=None, help="benchmark videos (default 20, 40 with --large)")
    p.add_argument("--workers", type=int, default=None,
                   help="data-loading processes of the trainings (default: 1 on <= 2 cores, else 4)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: the cores left next to the data workers)")
    p.add_argument("--no-siammask", action="store_true", help="skip the SiamMask variant")
    p.add_argument("--family", choices=sorted(MODEL_NAMES), default="anchor",
                   help="anchor: SiamRPN (+ SiamMask); point: a small NanoTrack-style anchor-free tracker")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--smoke", action="store_true",
                   help="seconds-long run on tiny data, to check the plumbing (the AUC check is meaningless)")
    return p


# --smoke: tiny benchmark and trainings (tests)
_SMOKE_TRAIN = ["TRAIN.EPOCH", "1", "TRAIN.BATCH_SIZE", "4", "DATASET.VIDEOS_PER_EPOCH", "8",
                "TRAIN.LR_WARMUP.WARMUP", "False", "DATASET.SYNTHETIC.NUM_VIDEOS", "2",
                "DATASET.SYNTHETIC.KWARGS.n_frames", "8", "DATASET.SYNTHETIC.KWARGS.width", "128",
                "DATASET.SYNTHETIC.KWARGS.height", "96", "TRAIN.NUM_WORKERS", "0"]
_SMOKE_BENCHMARK = {"n_frames": 6, "width": 128, "height": 96}


class _Clock:
    """Seconds spent per named step."""

    def __init__(self):
        self.seconds: Dict[str, float] = {}
        self.start = time.time()

    @contextmanager
    def step(self, name: str):
        logger.info("== %s", name)
        t = time.time()
        yield
        self.seconds[name] = round(time.time() - t, 1)
        logger.info("== %s done in %.0f s", name, self.seconds[name])

    def total(self) -> float:
        return round(time.time() - self.start, 1)


def _write_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1) + "\n")


def _load_cfg(name: str, out: Path, device: str, workers: int, generators: int,
              extra: Optional[List[str]] = None):
    from pysiam.config import load_config
    opts = ["TRAIN.OUTPUT_DIR", str(out), "DEVICE", device, "TRAIN.NUM_WORKERS", str(workers),
            "DATASET.SYNTHETIC.WORKERS", str(generators)]
    return load_config(name, opts + list(extra or []))


def _train(cfg, name: str, progress: bool):
    """Train (or finish, or just reload) the run of ``cfg``."""
    from pysiam.training.checkpoint import latest_checkpoint
    from pysiam.training.run_dir import inside_run_dir, resolve_run_dir
    from pysiam.training.trainer import train
    done = latest_checkpoint(inside_run_dir(resolve_run_dir(cfg), cfg.TRAIN.SNAPSHOT_DIR))
    # no checkpoint yet: whatever an interrupted first start left there is replaced
    return train(cfg, resume=done is not None, overwrite=done is None, config_name=name, progress=progress)


def _untrained_snapshot(cfg, path: Path) -> Path:
    """The SiamRPN's initial weights (same seed as its training) as a snapshot for test.py."""
    import torch

    from pysiam.models import build_model, save_checkpoint
    if not path.is_file():
        torch.manual_seed(int(cfg.TRAIN.SEED))
        save_checkpoint(path, build_model(cfg), epoch=0)
    return path


def _test(config: Path, snapshot: Path, name: str, data: Path, results: Path, device: str,
          progress: bool) -> None:
    from pysiam.cli.test import main as test_main
    argv = ["--config", str(config), "--snapshot", str(snapshot), "--dataset", DATASET,
            "--dataset-root", str(data), "--output", str(results), "--name", name, "--device", device,
            "--batch", "10"]
    if not progress:
        argv.append("--no-progress")
    rc = test_main(argv)
    if rc:
        raise RuntimeError(f"tools/test.py failed for {name} (exit status {rc})")


def _summary_entry(r: dict) -> dict:
    return {k: r.get(k) for k in ("success_auc", "precision", "norm_precision")}


def _plan(args) -> dict:
    """What this run does: sizes, the family's model, device, worker counts, video count."""
    import torch

    size = (POINT_SIZES if args.family == "point" else SIZES)["large" if (args.large or args.gpu) else "small"]
    device = args.device or ("cuda" if args.gpu else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--gpu / --device cuda but CUDA is not available")
    cores = os.cpu_count() or 1
    workers = args.workers if args.workers is not None else (1 if cores <= 2 else 4)
    generators = max(1, min(cores, 4))
    if args.smoke:
        workers, generators = 0, 1
    if device == "cpu":
        # one data worker next to the training process; more threads than cores stall on 2 cores
        torch.set_num_threads(args.threads or max(1, cores - workers))
    return {"size": size, "model": MODEL_NAMES[args.family], "device": device, "workers": workers,
            "generators": generators, "with_mask": size["mask"] is not None and not args.no_siammask,
            "videos": args.videos or (2 if args.smoke else size["videos"]),
            "smoke": _SMOKE_TRAIN if args.smoke else []}


def _train_all(plan: dict, out: Path, clock: "_Clock", progress: bool) -> dict:
    """Train the family's model (and the SiamMask variant); {name: (config, checkpoint)}."""
    size, name, device = plan["size"], plan["model"], plan["device"]
    common = (device, plan["workers"], plan["generators"])
    with clock.step("train SiamRPN" if name == "siamrpn" else f"train {name}"):
        rpn_cfg = _load_cfg(size["rpn"], out / name, *common, plan["smoke"])
        rpn = _train(rpn_cfg, size["rpn"], progress)
    runs = {name: (rpn.run_dir / "config.yaml", rpn.checkpoint),
            f"{name}_untrained": (rpn.run_dir / "config.yaml",
                                  _untrained_snapshot(rpn_cfg, out / name / "untrained.pth"))}
    if plan["with_mask"]:
        with clock.step("train SiamMask variant"):
            mask_cfg = _load_cfg(size["mask"], out / "siammask", *common,
                                 plan["smoke"] + ["TRAIN.PRETRAINED", str(rpn.checkpoint)])
            mask = _train(mask_cfg, size["mask"], progress)
        runs["siammask"] = (mask.run_dir / "config.yaml", mask.checkpoint)
    return runs


def _summary(args, plan: dict, scores: dict, runs: dict, clock: "_Clock") -> dict:
    name = plan["model"]
    trained, untrained = scores[name]["success_auc"], scores[f"{name}_untrained"]["success_auc"]
    summary = {
        "dataset": DATASET, "videos": plan["videos"], "device": plan["device"], "family": args.family,
        "model": name, "trained": _summary_entry(scores[name]),
        "untrained": _summary_entry(scores[f"{name}_untrained"]),
        "check": {"passed": trained >= MIN_TRAINED_AUC and trained >= MIN_GAIN * untrained,
                  "min_trained_auc": MIN_TRAINED_AUC, "min_gain": MIN_GAIN,
                  "gain": trained / untrained if untrained > 0 else None},
        "configs": {name: plan["size"]["rpn"], "siammask": plan["size"]["mask"] if plan["with_mask"] else None},
        "checkpoints": {k: str(v[1]) for k, v in runs.items()},
        "seconds": {**clock.seconds, "total": clock.total()},
    }
    if "siammask" in scores:
        summary["siammask"] = _summary_entry(scores["siammask"])
    return summary


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    from pysiam.data.synthetic import preset, write_otb_layout

    try:
        plan = _plan(args)
    except ValueError as e:
        print(f"quickstart: error: {e}", file=sys.stderr)
        return 2
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    data, results = out / "data" / DATASET, out / "results"
    progress = not args.no_progress
    clock = _Clock()
    with clock.step(f"benchmark: {plan['videos']} synthetic videos"):
        params = preset("default", seed=0, **(_SMOKE_BENCHMARK if args.smoke else {}))
        write_otb_layout(data, plan["videos"], params, name=DATASET, workers=plan["generators"], progress=progress)
    runs = _train_all(plan, out, clock, progress)
    with clock.step("tools/test.py on " + DATASET):
        for name, (config, snapshot) in runs.items():
            _test(config, snapshot, name, data, results, plan["device"], progress)
    with clock.step("tools/eval.py on " + DATASET):
        from pysiam.cli.eval import run as eval_main
        scores = eval_main(["--dataset", DATASET, "--dataset-root", str(data), "--results", str(results),
                            "--trackers", *runs, "--json", str(out / "eval.json"), "--plot", str(out / "plots"),
                            "--workers", "1"])
    summary = _summary(args, plan, scores, runs, clock)
    _write_json(out / "summary.json", summary)
    name, check = plan["model"], summary["check"]
    trained, untrained = summary["trained"]["success_auc"], summary["untrained"]["success_auc"]
    print(f"\nquickstart {'PASSED' if check['passed'] else 'FAILED'}: trained {name} success AUC {trained:.3f} "
          f"(untrained {untrained:.3f}; need >= {MIN_TRAINED_AUC} and >= {MIN_GAIN:g}x), {clock.total():.0f} s "
          f"in all. Summary: {out / 'summary.json'}, plots: {out / 'plots'}")
    return 0 if check["passed"] else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
