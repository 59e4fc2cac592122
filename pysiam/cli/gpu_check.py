"""One prepared device check: environment, CUDA tests, speed figures, pysot comparison, targets.

    python tools/gpu_check.py --output DIR [--dry-run] [--pysot PATH] [--budget-s 420]
        [--shared PATH] [--wheels DIR] [--work DIR] [--keep-work]
    python tools/gpu_check.py --prepare-wheels .whl     # here, with PyPI: wheels the device lacks

Writes ``DIR/gpu_check.json`` (rewritten after every step, so a killed run leaves what it did),
``DIR/gpu_check.log`` (each step's command, exit code, time and output tail) and
``DIR/gpu_check.txt`` (the summary table, also printed last). Scratch files (generated videos,
weights, results) go to a work folder outside DIR (a temporary one unless ``--work``), so that
DIR holds three files only. Every step is a subprocess with its own time limit inside the
overall budget; a failing, timed-out or skipped step is recorded and the check goes on.
``--dry-run``: CPU, tiny sizes and small configs, no installs, CUDA tests skipped (about a
minute on 2 cores); CI runs it (tests/test_gpu_check.py). See docs/GPU_CHECK.md.

Modules: this one (arguments, plan, budget, subprocesses), ``gpu_check_steps`` (the steps),
``gpu_check_summary`` (targets, table), and the subprocess helpers ``gpu_check_driver`` (weights,
pysot comparison) and ``gpu_check_options`` (inference options against the exact path).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[2]
#: packages of requirements.txt that the device image lacks (docs: KINDS.md's package list)
DEVICE_WHEELS = ("yacs",)


@dataclass
class Plan:
    """Sizes, configs and per-step time caps (seconds) of one mode (device or dry run)."""

    device: str
    configs: Dict[str, str]            # role -> config name
    pysot_configs: Sequence[str]
    frames: int
    frame_size: Sequence[int]
    batch: int
    train_batch: int                   # 0: the config's TRAIN.BATCH_SIZE
    train_steps: int
    synth: Dict[str, Any]
    variants: Dict[str, List[str]]
    caps: Dict[str, float]
    min_step_s: float
    #: one benchmark process per config for inference and training (dry run: fewer start-ups)
    merge_parts: bool = False

    @classmethod
    def for_mode(cls, dry_run: bool) -> "Plan":
        if dry_run:
            return cls("cpu", {"siamrpn": "quickstart_siamrpn", "siammask": "quickstart_siammask",
                               "nanotrack": "nanotrack_v2"}, ("siamrpn_alex_dwxcorr",), 4, (160, 120), 2, 2, 1,
                       {"videos": 2, "frames": 4, "size": "160x120", "workers": 1}, {},
                       {"env": 30, "tests": 30, "infer": 40, "train": 40, "variant": 30, "synth": 30,
                        "weights": 30, "test_py": 40, "pysot": 60}, 3.0, merge_parts=True)
        return cls("cuda", {"siamrpn": "siamrpn_r50_l234_dwxcorr", "siammask": "siammask_r50_l3",
                            "nanotrack": "nanotrack_v2"}, ("siamrpn_r50_l234_dwxcorr", "siammask_r50_l3"),
                   40, (640, 360), 32, 0, 5, {"videos": 32, "frames": 60, "size": "320x240", "workers": 8},
                   {"fold_bn_cuda_graphs": ["--fold-bn", "--cuda-graphs"],
                    "bf16_channels_last": ["--fold-bn", "--amp", "bf16", "--channels-last"]},
                   {"env": 60, "install": 90, "tests": 120, "infer": 120, "train": 90, "variant": 60,
                    "synth": 60, "weights": 60, "test_py": 120, "pysot": 150}, 15.0)


@dataclass
class Check:
    """State of one run: arguments, plan, budget, paths, the result dict and the log."""

    args: argparse.Namespace
    plan: Plan
    out: Path
    work: Path
    started: float = field(default_factory=time.monotonic)
    result: Dict[str, Any] = field(default_factory=dict)
    pythonpath: List[str] = field(default_factory=lambda: [str(REPO)])

    def left(self) -> float:
        return float(self.args.budget_s) - (time.monotonic() - self.started)

    def timeout(self, kind: str) -> Optional[float]:
        """The step's time limit, or None when the budget cannot fit it any more."""
        t = min(self.plan.caps.get(kind, 60.0), self.left() - 5.0)
        return t if t >= self.plan.min_step_s else None

    def env(self) -> Dict[str, str]:
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=os.pathsep.join(
            self.pythonpath + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
        if self.args.dry_run:
            env.setdefault("OMP_NUM_THREADS", "1")
        if self.args.shared:
            env["PYSIAM_SHARED"] = str(Path(self.args.shared).resolve())
        return env

    def save(self) -> None:
        self.result.setdefault("meta", {})["wall_s"] = round(time.monotonic() - self.started, 2)
        tmp = self.out / "gpu_check.json.tmp"
        tmp.write_text(json.dumps(self.result, indent=2, sort_keys=True, default=str) + "\n")
        os.replace(tmp, self.out / "gpu_check.json")

    def log(self, text: str) -> None:
        with open(self.out / "gpu_check.log", "a", encoding="utf-8") as f:
            f.write(text.rstrip("\n") + "\n")

    def run(self, name: str, cmd: Sequence[str], kind: str) -> Dict[str, Any]:
        """Run ``cmd`` under the step's time limit; {'status', 'rc', 'wall_s', 'output' tail}."""
        limit = self.timeout(kind)
        if limit is None:
            return {"status": "skipped", "reason": f"budget: {max(self.left(), 0):.0f} s left of {self.args.budget_s}"}
        rec = run_command(cmd, limit, self.env(), self.work / "logs" / f"{name}.log")
        self.log(f"===== {name}: {rec['status']} rc={rec['rc']} {rec['wall_s']:.1f}s (limit {limit:.0f}s)\n"
                 f"$ {' '.join(map(str, cmd))}\n{rec['output']}")
        return rec


def run_command(cmd: Sequence[str], limit: float, env: Dict[str, str], log: Path) -> Dict[str, Any]:
    """A subprocess in its own session (killed as a group at ``limit``); output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    tic = time.monotonic()
    with open(log, "wb") as f:
        proc = subprocess.Popen([str(c) for c in cmd], cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            rc: Optional[int] = proc.wait(timeout=limit)
            status = "ok" if rc == 0 else "failed"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc, status = None, "timeout"
    text = log.read_text(errors="replace").splitlines()
    return {"status": status, "rc": rc, "wall_s": round(time.monotonic() - tic, 2),
            "output": "\n".join(text[-60:])}


def prepare_wheels(folder: str) -> int:
    """Download the wheels the device image lacks (DEVICE_WHEELS, this machine's versions)."""
    from importlib import metadata

    names = []
    for name in DEVICE_WHEELS:
        try:
            names.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            names.append(name)
    plats = [f"--platform={p}" for p in ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")]
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version",
           "3.12", "--implementation", "cp", *plats, "-d", folder, *names]
    print("$", " ".join(cmd))
    return subprocess.call(cmd)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gpu_check", description=__doc__.split("\n")[0])
    p.add_argument("--output", help="folder for gpu_check.json / .log / .txt (e.g. $OUT on the device)")
    p.add_argument("--dry-run", action="store_true", help="CPU, tiny sizes, no installs (CI)")
    p.add_argument("--pysot", default=None, help="pysot checkout (pysot/ + experiments/) to compare with")
    p.add_argument("--budget-s", type=float, default=420.0, help="overall time budget (default 420)")
    p.add_argument("--device", default=None, help="override the mode's device (cuda; dry run: cpu)")
    p.add_argument("--shared", default=None, help="folder holding data/ for the CUDA tests (PYSIAM_SHARED)")
    p.add_argument("--wheels", default=None, help="wheels to install when a package is missing "
                   "(default: .whl in the repository, if there)")
    p.add_argument("--work", default=None, help="scratch folder (default: a temporary one, removed)")
    p.add_argument("--keep-work", action="store_true", help="keep the scratch folder")
    p.add_argument("--prepare-wheels", metavar="DIR", default=None,
                   help="only download the wheels the device lacks into DIR, then exit")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.prepare_wheels:
        return prepare_wheels(args.prepare_wheels)
    if not args.output:
        print("gpu_check: error: --output is required", file=sys.stderr)
        return 2
    from pysiam.cli import gpu_check_steps as steps

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.log").write_text("")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="gpu_check_"))
    work.mkdir(parents=True, exist_ok=True)
    plan = Plan.for_mode(args.dry_run)
    plan.device = args.device or plan.device
    check = Check(args, plan, out.resolve(), work.resolve())
    try:
        steps.run_all(check)
    finally:
        if not args.keep_work and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    table = steps.summary_table(check.result)
    (out / "gpu_check.txt").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
