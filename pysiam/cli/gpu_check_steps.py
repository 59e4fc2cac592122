"""The steps of ``tools/gpu_check.py`` (see :mod:`pysiam.cli.gpu_check`) and its summary.

Each step fills one section of the result: ``status`` is ``ok``, ``failed``, ``timeout``,
``skipped`` or ``config missing``, with a ``reason`` whenever it is not ``ok``.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from pysiam.cli.gpu_check import REPO, Check
from pysiam.cli.gpu_check_summary import summarize, summary_table

__all__ = ["run_all", "summarize", "summary_table"]

PY = sys.executable
MODULES = ("torch", "numpy", "cv2", "yaml", "yacs", "tqdm", "pytest")
PIP_NAMES = {"cv2": "opencv-python-headless", "yaml": "pyyaml"}
PROBE = r"""
import importlib.util, json, platform, sys
from importlib import metadata
info = {"python": sys.version.split()[0], "executable": sys.executable, "platform": platform.platform()}
info["missing"] = [m for m in %r if importlib.util.find_spec(m) is None]
for dist in ("torch", "numpy", "opencv-python-headless", "opencv-python", "yacs", "pytest"):
    try:
        info.setdefault("versions", {})[dist] = metadata.version(dist)
    except metadata.PackageNotFoundError:
        pass
try:
    import torch
    info.update(torch=torch.__version__, cuda_available=torch.cuda.is_available(), torch_cuda=torch.version.cuda,
                cudnn=torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
                tf32={"cudnn_conv": torch.backends.cudnn.allow_tf32, "matmul": torch.backends.cuda.matmul.allow_tf32},
                cudnn_benchmark=torch.backends.cudnn.benchmark)
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        info.update(device_name=p.name, capability=list(torch.cuda.get_device_capability(0)),
                    memory_gib=round(p.total_memory / 2 ** 30, 1), multiprocessors=p.multi_processor_count,
                    device_count=torch.cuda.device_count())
except Exception as e:
    info["torch_error"] = repr(e)
print("GPU_CHECK_ENV " + json.dumps(info))
""" % (MODULES,)


def _fail(rec: Dict[str, Any], why: str = "") -> Dict[str, Any]:
    """A subprocess record as a section: the output tail is kept only when the step did not pass."""
    rec = dict(rec)
    if rec.get("status") == "ok":
        rec.pop("output", None)
    elif "reason" not in rec:
        tail = [ln for ln in rec.get("output", "").splitlines() if ln.strip()]
        rec["reason"] = why or (f"timed out after {rec['wall_s']} s" if rec["status"] == "timeout"
                                else (tail[-1] if tail else f"exit code {rec['rc']}"))
    return rec


# -- 1. environment -----------------------------------------------------------------------------

def _probe(c: Check, name: str) -> Dict[str, Any]:
    rec = c.run(name, [PY, "-c", PROBE], "env")
    for line in rec.get("output", "").splitlines():
        if line.startswith("GPU_CHECK_ENV "):
            return {"status": "ok", **json.loads(line[len("GPU_CHECK_ENV "):])}
    return _fail(rec, "the environment probe printed nothing")


def _nvidia_smi() -> Any:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return "nvidia-smi not found"
    query = "name,driver_version,memory.total,memory.used,clocks.sm,clocks.max.sm,temperature.gpu,power.draw"
    try:  # read-only query: the card's settings are left as they are
        return subprocess.run([exe, f"--query-gpu={query}", "--format=csv"], capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        return f"nvidia-smi failed: {e}"


def step_environment(c: Check) -> None:
    env = _probe(c, "environment")
    env["nvidia_smi"] = _nvidia_smi()
    env["pysiam"] = f"imported from the working tree {REPO} via PYTHONPATH (no install)"
    c.result["environment"] = env
    missing = env.get("missing", [])
    if c.args.dry_run:
        c.result["install"] = {"status": "skipped", "reason": "dry-run: no installs", "missing": missing}
    elif not missing:
        c.result["install"] = {"status": "ok", "reason": "nothing missing", "missing": []}
    else:
        c.result["install"] = _install(c, missing)
        c.result["environment"] = {**_probe(c, "environment_after_install"), "nvidia_smi": env["nvidia_smi"],
                                   "pysiam": env["pysiam"]}
    if c.plan.device.startswith("cuda") and not c.result["environment"].get("cuda_available"):
        c.result["environment"]["status"] = "failed"
        c.result["environment"]["reason"] = "CUDA is not available to torch"


def _install(c: Check, missing: List[str]) -> Dict[str, Any]:
    """Missing packages from carried wheels (--wheels / .whl) into work/site, else from pip."""
    folder = Path(c.args.wheels).resolve() if c.args.wheels else REPO / ".whl"
    wheels = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    if wheels:
        site = c.work / "site"
        cmd = [PY, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile", "--no-cache-dir",
               "--upgrade", "--target", str(site), *map(str, wheels)]
        c.pythonpath.append(str(site))
    else:
        cmd = [PY, "-m", "pip", "install", "-q", "--retries", "0", "--timeout", "5",
               *[PIP_NAMES.get(m, m) for m in missing]]
    return {**_fail(c.run("install", cmd, "install")), "missing": missing, "wheels": [w.name for w in wheels]}


# -- 2. CUDA-only tests ---------------------------------------------------------------------------

def step_cuda_tests(c: Check) -> None:
    files = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests").glob("test_*.py")
                   if p.name != "test_gpu_check.py" and "cuda" in p.read_text(errors="replace"))
    sec: Dict[str, Any] = {"files": files, "selection": "-k cuda"}
    if c.args.dry_run:
        c.result["cuda_tests"] = {**sec, "status": "skipped", "reason": "dry-run: CUDA-only tests skipped"}
        return
    rec = _fail(c.run("cuda_tests", [PY, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-k", "cuda",
                                     *files], "tests"))
    tail = c.work / "logs" / "cuda_tests.log"
    text = tail.read_text(errors="replace") if tail.is_file() else ""
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)", text)}
    skips = [ln for ln in text.splitlines() if ln.startswith("SKIPPED")]
    c.result["cuda_tests"] = {**sec, **rec, "counts": counts, "skipped_why": skips[:10],
                              "shared": c.args.shared or "not given: tests that need real data skip"}


# -- 3. speed benchmarks ---------------------------------------------------------------------------

def config_exists(name: str) -> bool:
    return Path(name).exists() or any((REPO / d / f"{name}.yaml").is_file() for d in ("configs", "pysiam/configs"))


def step_bench(c: Check, role: str, part: str, extra: Optional[List[str]] = None, label: str = "") -> None:
    """tools/benchmark.py for a role's config: part 'infer' (tracker, batched, model) or 'train'."""
    p = c.plan
    config = p.configs[role]
    sec = c.result.setdefault("benchmarks", {}).setdefault(config, {"role": role})
    key = label or part
    if not config_exists(config):
        sec.update(status="config missing", reason=f"no config {config!r} in configs/ or pysiam/configs/")
        sec[key] = {"status": "skipped", "reason": "config missing"}
        return
    out = c.work / f"bench_{config}_{key}.json"
    cmd = [PY, "tools/benchmark.py", "--config", config, "--device", p.device, "--frames", p.frames,
           "--frame-size", *p.frame_size, "--warmup", 1, "--json", out]
    cmd += ["--snapshot", weights_path(c, config)] if weights_path(c, config).is_file() else []
    only = {"train": "train", "infer": "tracker,batched,model", "all": "tracker,batched,model,train"}[part]
    cmd += ["--only", only, "--batch", p.batch, "--train-steps", p.train_steps, *(extra or [])]
    cmd += ["--train-batch", p.train_batch] if p.train_batch else []
    rec = _fail(c.run(f"bench_{config}_{key}", cmd, "variant" if label else ("infer" if part == "all" else part)))
    if out.is_file():
        data = json.loads(out.read_text())
        rec["figures"] = {k: data[k] for k in ("tracker", "batched", "model", "train") if k in data}
        rec.update({k: data.get(k) for k in ("gpu", "torch", "options")})
        errors = [f"{k}: {v['error']}" for k, v in rec["figures"].items() if "error" in v]
        if errors:
            rec.update(status="failed", reason="; ".join(errors))
    elif rec["status"] == "ok":
        rec.update(status="failed", reason="benchmark wrote no JSON")
    if part != "all":
        sec[key] = rec
    else:  # one process, two records
        for name, parts in (("infer", ("tracker", "batched", "model")), ("train", ("train",))):
            figures = {k: v for k, v in rec.get("figures", {}).items() if k in parts}
            errors = [f"{k}: {v['error']}" for k, v in figures.items() if "error" in v]
            one = {**rec, "figures": figures}
            if errors:
                one.update(status="failed", reason="; ".join(errors))
            elif figures:
                one["status"] = "ok"
                one.pop("reason", None)
            sec[name] = one
    sec.setdefault("status", "ok")


def weights_path(c: Check, config: str) -> Path:
    return c.work / f"weights_{config}.pth"


def step_weights(c: Check, role: str) -> None:
    """Seeded random weights with calibrated BatchNorm statistics (sane boxes) for a role's config."""
    config = c.plan.configs[role]
    if not config_exists(config):
        return
    cmd = [PY, "-m", "pysiam.cli.gpu_check_driver", "weights", "--config", config, "--out", weights_path(c, config)]
    c.result.setdefault("weights", {})[config] = _fail(c.run(f"weights_{config}", cmd, "weights"))


# -- 4. tools/test.py sequential vs batched ---------------------------------------------------------

def _boxes(folder: Path) -> Dict[str, np.ndarray]:
    out = {}
    for f in sorted(folder.glob("*.txt")):
        rows = [[float(v) for v in ln.replace(",", " ").split()] for ln in f.read_text().splitlines() if ln.strip()]
        out[f.stem] = np.asarray(rows, dtype=np.float64)
    return out


def step_test_py(c: Check) -> None:
    p, config = c.plan, c.plan.configs["siamrpn"]
    sec: Dict[str, Any] = {"config": config, "videos": p.synth["videos"], "frames_per_video": p.synth["frames"],
                           "size": p.synth["size"]}
    c.result["test_py"] = sec
    synth, weights, results = c.work / "synth", weights_path(c, config), c.work / "results"
    if not weights.is_file():
        sec.update(status="skipped", reason=f"no weights for {config} (see the 'weights' section)")
        return
    sec["make_synthetic"] = _fail(c.run("make_synthetic", [
        PY, "tools/make_synthetic.py", "--out", synth, "--videos", p.synth["videos"], "--frames", p.synth["frames"],
        "--size", p.synth["size"], "--workers", p.synth["workers"]], "synth"))
    if sec["make_synthetic"]["status"] != "ok":
        sec.update(status=sec["make_synthetic"]["status"], reason=f"make_synthetic: {sec['make_synthetic']['reason']}")
        return
    runs = {"sequential": 1, f"batch{p.batch}": p.batch}
    for name, batch in runs.items():
        cmd = [PY, "tools/test.py", "--config", config, "--snapshot", weights, "--dataset", "SYNTH",
               "--dataset-root", synth, "--output", results, "--name", name, "--device", p.device,
               "--no-progress", "--batch", batch]
        rec = _fail(c.run(f"test_py_{name}", cmd, "test_py"))
        frames = p.synth["videos"] * p.synth["frames"]
        rec.update(batch=batch, frames=frames, frames_per_wall_s=frames / max(rec["wall_s"], 1e-9))
        sec[name] = rec
    a, b = (_boxes(results / "SYNTH" / n) for n in runs)
    common = sorted(set(a) & set(b))
    if not common or any(sec[n]["status"] != "ok" for n in runs):
        sec.update(status="failed", reason="a run failed or wrote no results", videos_compared=len(common))
        return
    diffs = [float(np.abs(a[v] - b[v]).max()) if a[v].shape == b[v].shape else float("inf") for v in common]
    sec.update(status="ok", videos_compared=len(common), max_box_diff_px=max(diffs),
               videos_over_0_05px=sum(d > 0.05 for d in diffs),
               speedup_wall=sec["sequential"]["wall_s"] / max(sec[f"batch{p.batch}"]["wall_s"], 1e-9),
               note="wall times include process start-up, model build and frame decoding")


def step_options(c: Check) -> None:
    """Outputs of the inference options against the exact path (the first, capturing call too)."""
    config = c.plan.configs["siamrpn"]
    out = c.work / f"options_{config}.json"
    cmd = [PY, "-m", "pysiam.cli.gpu_check_options", "--config", config, "--device", c.plan.device, "--json", out]
    cmd += ["--weights", weights_path(c, config)] if weights_path(c, config).is_file() else []
    rec = _fail(c.run(f"options_{config}", cmd, "variant"))
    if out.is_file():
        rec.update(json.loads(out.read_text()))
        bad = [k for k, v in rec["variants"].items() if not v.get("within_tolerance")]
        rec["over_tolerance_or_failed"] = bad
    c.result["inference_options"] = rec


# -- 5. pysot ---------------------------------------------------------------------------------------

def step_pysot(c: Check, config: str) -> None:
    sec = c.result.setdefault("pysot", {})
    if not c.args.pysot:
        sec.update(status="skipped", reason="no --pysot PATH given")
        return
    p = c.plan
    out = c.work / f"pysot_{config}.json"
    cmd = [PY, "-m", "pysiam.cli.gpu_check_driver", "pysot", "--pysot", Path(c.args.pysot).resolve(), "--config",
           config, "--device", p.device, "--frames", p.frames, "--frame-size", *p.frame_size,
           "--train-steps", p.train_steps, "--json", out]
    cmd += ["--train-batch", p.train_batch] if p.train_batch else []
    cmd += ["--no-train"] if "mask" in config else []
    rec = _fail(c.run(f"pysot_{config}", cmd, "pysot"))
    if out.is_file():
        rec.update(json.loads(out.read_text()))
    sec[config] = rec
    sec["status"] = "ok" if all(v.get("status") == "ok" for v in sec.values() if isinstance(v, dict)) else "failed"


# -- all steps, in priority order ------------------------------------------------------------------

def run_all(c: Check) -> None:
    import datetime

    c.result["meta"] = {"dry_run": bool(c.args.dry_run), "budget_s": c.args.budget_s, "device": c.plan.device,
                        "configs": c.plan.configs, "pysot": c.args.pysot,
                        "pysot_configs": list(c.plan.pysot_configs), "repo": str(REPO),
                        "started_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                        "sizes": {"frames": c.plan.frames, "frame_size": list(c.plan.frame_size),
                                  "batch": c.plan.batch, "train_batch": c.plan.train_batch or "TRAIN.BATCH_SIZE"}}
    parts = ("all",) if c.plan.merge_parts else ("infer", "train")
    steps: List[tuple] = [("environment", step_environment, ()), ("cuda_tests", step_cuda_tests, ()),
                          ("weights siamrpn", step_weights, ("siamrpn",))]
    steps += [(f"bench siamrpn {part}", step_bench, ("siamrpn", part)) for part in parts]
    steps += [("pysot", step_pysot, (c.plan.pysot_configs[0],)), ("test_py", step_test_py, ()),
              ("inference options", step_options, ())]
    for role in ("siammask", "nanotrack"):
        steps += [(f"bench {role} {part}", step_bench, (role, part)) for part in parts]
    steps += [("pysot", step_pysot, (cfg,)) for cfg in c.plan.pysot_configs[1:]]
    steps += [(f"variant {k}", step_bench, ("siamrpn", "infer", v, f"variant_{k}")) for k, v in c.plan.variants.items()]
    for name, fn, extra in steps:
        if name != "environment" and c.result["environment"].get("status") != "ok":
            c.result.setdefault("skipped_steps", []).append(f"{name}: environment failed")
            continue
        _guarded(c, name, fn, extra)
        c.save()
        print(f"gpu_check [{c.args.budget_s - c.left():6.1f} s] {name}: done", flush=True)
    c.result["summary"] = summarize(c.result)
    c.save()


def _guarded(c: Check, name: str, fn: Callable, extra: tuple) -> None:
    """A bug in a step is recorded in ``errors``; the check goes on."""
    try:
        fn(c, *extra)
    except Exception as e:  # noqa: BLE001 - a failing step must not end the check
        c.result.setdefault("errors", []).append(f"{name}: {type(e).__name__}: {e}")
        c.log(f"===== {name}: internal error {type(e).__name__}: {e}")

