"""Score what the vot-toolkit stored in a workspace, with the toolkit's (0.7.4) definitions.

    from pysiam.vot.analysis import score_workspace
    score_workspace("ws")            # {experiment: {'eao', 'accuracy', 'robustness', <seq>: {...}}}

Every experiment of the workspace's stack is scored: ``multistart`` ones (EAO over the stack's
[low, high], accuracy and robustness: :mod:`pysiam.vot.multistart`) and ``unsupervised`` ones
(average accuracy: per run the mean overlap of the frames after ``burnin`` frames from the
initialisation, frames with an unknown ground truth left out; sequences weighted by length) and
``supervised`` ones (:mod:`pysiam.vot.supervised`: accuracy, failures as the toolkit's
robustness, EAO). Other experiment types are reported as ``{'skipped': reason}``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from pysiam.vot.multistart import anchor_runs, read_multistart_runs, score_sequence, summarize
from pysiam.vot.regions import INIT, FAILURE, UNKNOWN, Region, read_trajectory, region_overlaps

__all__ = ["WorkspaceSequence", "read_workspace_sequence", "read_stack", "workspace_trackers",
           "score_workspace", "score_multistart", "score_unsupervised"]


@dataclass
class WorkspaceSequence:
    """A toolkit sequence folder: ground truth regions, image size, anchors, tags."""
    name: str
    gt: List[Region]
    size: tuple
    anchors: List[float] = field(default_factory=list)
    frames: List[str] = field(default_factory=list)


def _properties(path: Path) -> Dict[str, str]:
    out = {}
    for line in path.read_text().splitlines() if path.is_file() else []:
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def read_workspace_sequence(folder: str | Path) -> WorkspaceSequence:
    """Read <folder>/sequence, groundtruth.txt and anchor.value (the toolkit's sequence layout)."""
    folder = Path(folder)
    meta = _properties(folder / "sequence")
    gt = read_trajectory(folder / meta.get("groundtruth", "groundtruth.txt"))
    length = int(meta.get("length") or len(gt))
    pattern = meta.get("channels.color", "color/%08d.jpg")
    frames = [str(folder / (pattern % i)) for i in range(1, length + 1)]
    if "width" in meta and "height" in meta:
        size = (int(meta["width"]), int(meta["height"]))
    else:
        from pysiam.datasets.video import image_size_of
        size = image_size_of(frames[0])
    gt = gt[:length] + [Region("special", code=UNKNOWN)] * (length - len(gt))
    anchor_file = folder / "anchor.value"
    anchors = [float(v) for v in anchor_file.read_text().split()] if anchor_file.is_file() else []
    anchors = anchors[:length] + [0.0] * (length - len(anchors))
    return WorkspaceSequence(folder.name, gt, size, anchors, frames)


def read_stack(workspace: str | Path) -> Dict[str, Any]:
    """The workspace's stack (config.yaml's ``stack``: a file in the workspace)."""
    import yaml

    ws = Path(workspace)
    config = yaml.safe_load((ws / "config.yaml").read_text()) or {}
    name = str(config.get("stack", ""))
    path = Path(name) if Path(name).is_absolute() else ws / name
    if not path.is_file():
        raise FileNotFoundError(f"{ws / 'config.yaml'}: stack {name!r} is not a file in the workspace "
                                f"(the toolkit's built-in stacks are not read by pysiam)")
    stack = yaml.safe_load(path.read_text()) or {}
    stack["_sequences"] = str(ws / str(config.get("sequences", "sequences")))
    return stack


def workspace_trackers(workspace: str | Path) -> List[str]:
    """Trackers with a results folder in the workspace."""
    root = Path(workspace) / "results"
    return sorted(d.name for d in root.iterdir() if d.is_dir()) if root.is_dir() else []


def _analysis(exp: Dict[str, Any], kind: str) -> Optional[Dict[str, Any]]:
    for a in exp.get("analyses", []) or []:
        if str(a.get("type", "")).split(".")[-1] in kind.split("|"):
            return a
    return None


def score_multistart(folder: Path, sequences: Dict[str, WorkspaceSequence],
                     exp: Dict[str, Any]) -> Dict[str, Any]:
    """EAO / accuracy / robustness of one multistart experiment's results folder."""
    eao_cfg = _analysis(exp, "multistart_eao_score|EAOScore") or {}
    ar_cfg = _analysis(exp, "multistart_average_ar|AverageAccuracyRobustness") or {}
    high = int(eao_cfg.get("high", 755))
    low = int(eao_cfg.get("low", 115))
    scores, per_seq = {}, {}
    for name, seq in sequences.items():
        anchors = anchor_runs(seq.anchors)
        runs = read_multistart_runs(folder / name, name, anchors)
        ar = score_sequence(runs, seq.gt, seq.size, high, float(ar_cfg.get("threshold", 0.1)),
                            int(ar_cfg.get("grace", 10)))
        if eao_cfg and (eao_cfg.get("threshold", 0.1), eao_cfg.get("grace", 10)) != \
                (ar_cfg.get("threshold", 0.1), ar_cfg.get("grace", 10)):
            eao = score_sequence(runs, seq.gt, seq.size, high, float(eao_cfg.get("threshold", 0.1)),
                                 int(eao_cfg.get("grace", 10)))
            ar.curve, ar.active = eao.curve, eao.active
        scores[name] = ar
        per_seq[name] = ar.as_dict()
    summary = summarize(scores, low, high)
    out = {"accuracy": summary["accuracy"], "robustness": summary["robustness"]}
    if eao_cfg:
        out.update(eao=summary["eao"], eao_curve=summary["eao_curve"], low=low, high=high)
    out.update(per_seq)
    return out


def _run_accuracy(traj: List[Region], gt: List[Region], size, burnin: int) -> Optional[float]:
    overlaps = np.asarray(region_overlaps(traj, gt, size))
    keep = np.ones(len(overlaps), dtype=bool)
    for i, (tr, g) in enumerate(zip(traj, gt)):
        if g.kind == "special" and g.code == UNKNOWN:
            keep[i] = False
        elif tr.kind == "special" and tr.code == UNKNOWN:
            keep[i] = False
        elif tr.kind == "special" and tr.code == INIT:
            keep[i:i + burnin] = False
        elif tr.kind == "special" and tr.code == FAILURE:
            keep[i] = False
    return float(np.mean(overlaps[keep])) if keep.any() else None


def score_unsupervised(folder: Path, sequences: Dict[str, WorkspaceSequence],
                       exp: Dict[str, Any]) -> Dict[str, Any]:
    """Average accuracy of one unsupervised experiment (single object, all repetitions)."""
    cfg = _analysis(exp, "average_accuracy|AverageAccuracy") or {}
    burnin = int(cfg.get("burnin", 10))
    total, frames, per_seq = 0.0, 0, {}
    for name, seq in sequences.items():
        runs = _repetition_files(folder, name, exp)
        accs = [_run_accuracy(read_trajectory(p), seq.gt, seq.size, burnin) for p in runs]
        acc = sum(a for a in accs if a is not None) / len(runs)
        per_seq[name] = {"accuracy": acc, "length": len(seq.gt)}
        total += acc * len(seq.gt)
        frames += len(seq.gt)
    return {"accuracy": total / frames, **per_seq}


def _repetition_files(folder: Path, name: str, exp: Dict[str, Any]) -> List[Path]:
    out = []
    for i in range(1, int(exp.get("repetitions", 1)) + 1):
        for ext in (".bin", ".txt"):
            if (folder / name / f"{name}_{i:03d}{ext}").is_file():
                out.append(folder / name / f"{name}_{i:03d}{ext}")
                break
    if not out:
        raise FileNotFoundError(f"{folder / name}: no trajectory {name}_001.bin/.txt")
    return out


def score_supervised(folder: Path, sequences: Dict[str, WorkspaceSequence],
                     exp: Dict[str, Any]) -> Dict[str, Any]:
    """Accuracy, failures (the toolkit's robustness) and EAO of a supervised experiment."""
    from pysiam.vot.supervised import run_accuracy, run_fragments, supervised_summary

    ar_cfg = _analysis(exp, "supervised_average_ar|AverageAccuracyRobustness") or {}
    eao_cfg = _analysis(exp, "supervised_eao_score|EAOScore") or {}
    burnin = int(ar_cfg.get("burnin", 10))
    per_seq, fragments, out = {}, [], {}
    for name, seq in sequences.items():
        trajs = [read_trajectory(p) for p in _repetition_files(folder, name, exp)]
        acc = sum(run_accuracy(t, seq.gt, seq.size, burnin) for t in trajs) / len(trajs)
        fails = sum(sum(1 for r in t if r.kind == "special" and r.code == FAILURE) for t in trajs) / len(trajs)
        per_seq[name] = (acc, fails, len(seq.gt))
        out[name] = {"accuracy": acc, "failures": fails, "length": len(seq.gt)}
        for t in trajs:
            fragments += run_fragments(t, seq.gt, seq.size)
    summary = supervised_summary(per_seq, fragments, int(eao_cfg.get("low", 0)),
                                 int(eao_cfg.get("high", 0)), float(ar_cfg.get("sensitivity", 30)))
    if not eao_cfg:
        summary = {k: v for k, v in summary.items() if not k.startswith("eao")}
    return {**summary, **out}


SCORERS = {"multistart": score_multistart, "unsupervised": score_unsupervised,
           "supervised": score_supervised}


def score_workspace(workspace: str | Path, tracker: Optional[str] = None) -> Dict[str, Any]:
    """Scores of ``tracker`` (default: the workspace's only tracker with results), per experiment."""
    ws = Path(workspace)
    if not (ws / "config.yaml").is_file():
        raise FileNotFoundError(f"not a vot-toolkit workspace (no config.yaml): {ws}")
    stack = read_stack(ws)
    if tracker is None:
        found = workspace_trackers(ws)
        if len(found) != 1:
            raise ValueError(f"{ws}: name the tracker to score; results hold "
                             f"{', '.join(found) if found else 'none'}")
        tracker = found[0]
    seq_root = Path(stack["_sequences"])
    names = [l.strip() for l in (seq_root / "list.txt").read_text().splitlines() if l.strip()]
    sequences = {n: read_workspace_sequence(seq_root / n) for n in names}
    out: Dict[str, Any] = {}
    for exp_name, exp in (stack.get("experiments") or {}).items():
        kind = str(exp.get("type", ""))
        folder = ws / "results" / tracker / exp_name
        if kind not in SCORERS:
            out[exp_name] = {"skipped": f"experiment type {kind!r} is not scored by pysiam"}
        elif exp.get("transformers"):
            out[exp_name] = {"skipped": "experiments with sequence transformers are not scored by pysiam"}
        elif not folder.is_dir():
            out[exp_name] = {"skipped": f"no results in {folder}"}
        else:
            out[exp_name] = SCORERS[kind](folder, sequences, exp)
    return out


def format_scores(tracker: str, scores: Dict[str, Any]) -> str:
    """A small text table: one line per experiment with its dataset-level numbers."""
    lines = [f"{'tracker':<20} {'experiment':<16} {'EAO':>7} {'A':>7} {'R':>7}"]
    for exp, s in scores.items():
        if "skipped" in s:
            lines.append(f"{tracker:<20} {exp:<16} skipped: {s['skipped']}")
            continue
        cells = [f"{s[k]:7.4f}" if isinstance(s.get(k), float) else f"{'-':>7}"
                 for k in ("eao", "accuracy", "robustness")]
        lines.append(f"{tracker:<20} {exp:<16} " + " ".join(cells))
    return "\n".join(lines)


def workspace_cli(argv: List[str]) -> Dict[str, Any]:
    """``eval --vot-workspace WS [--trackers T ...] [--json OUT]``: score, print, write."""
    import argparse
    import json

    p = argparse.ArgumentParser(prog="eval", description="score a vot-toolkit workspace")
    p.add_argument("--vot-workspace", required=True)
    p.add_argument("--trackers", nargs="+", help="trackers (default: every one with results)")
    p.add_argument("--json", help="write {tracker: {experiment: scores}} here")
    args, _ = p.parse_known_args(argv)
    if not (Path(args.vot_workspace) / "config.yaml").is_file():
        raise FileNotFoundError(f"not a vot-toolkit workspace (no config.yaml): {args.vot_workspace}")
    trackers = args.trackers or workspace_trackers(args.vot_workspace)
    if not trackers:
        raise FileNotFoundError(f"{args.vot_workspace}: no results folder to score")
    out = {t: score_workspace(args.vot_workspace, t) for t in trackers}
    for t, s in out.items():
        print(format_scores(t, s))
    if args.json:
        from pysiam.utils.atomic import atomic_write_text
        atomic_write_text(Path(args.json), json.dumps(out, indent=1) + "\n")
        print(f"numbers written to {args.json}")
    return out
