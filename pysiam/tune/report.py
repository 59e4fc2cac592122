"""What a search leaves behind: the ranked table, the best setting as YAML / KEY VALUE, a plot.

Files in the search folder:

* ``trials.csv``  every recorded trial, best first;
* ``best.yaml``   ``_BASE_: <config>`` plus the command-line overrides of the search and the best
  TRACK values: ``tools/test.py --config best.yaml`` runs the best setting;
* ``best.json``   the best record, with ``opts`` (the KEY VALUE form);
* ``scores.png``  score against each searched parameter.
"""
from __future__ import annotations

import json
import math
from ast import literal_eval
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from pysiam.results.files import atomic_write_text
from pysiam.tune.table import LOWER_IS_BETTER, json_safe, ranked, write_csv
from pysiam.utils.atomic import atomic_path

__all__ = ["override_opts", "best_yaml_text", "write_reports", "plot_scores", "format_opts"]


def override_opts(params: Dict[str, Any], base_opts: Sequence[str] = ()) -> List[str]:
    """KEY VALUE list: the search's own overrides, then the trial's values (which win)."""
    merged: Dict[str, str] = {}
    base = list(base_opts)
    for k, v in zip(base[0::2], base[1::2]):
        merged[k] = str(v)
    for k in params:
        merged[k] = repr(params[k])
    return [x for kv in merged.items() for x in kv]


def format_opts(opts: Sequence[str]) -> str:
    return " ".join(opts)


def _nested(opts: Sequence[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, raw in zip(opts[0::2], opts[1::2]):
        try:
            v = literal_eval(raw)
        except (ValueError, SyntaxError):
            v = raw
        node = out
        parts = k.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = v
    return out


def best_yaml_text(best: dict, config_ref: str, base_opts: Sequence[str], header: Sequence[str]) -> str:
    """A config file inheriting ``config_ref`` with the best values (and the search's overrides)."""
    import yaml

    opts = override_opts(best["params"], base_opts)
    body = {"_BASE_": config_ref} if config_ref else {}
    body.update(_nested(opts))
    lines = [f"# {h}" if h else "#" for h in header]
    return "\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False, default_flow_style=False)


def _float(v) -> float:
    return float(v) if isinstance(v, (int, float)) and v is not None and math.isfinite(v) else math.nan


def plot_scores(path: Path, records: List[dict], param_keys: List[str], metric: str,
                best: Optional[dict] = None, log_keys: Sequence[str] = (), title: str = "") -> Path:
    """One panel per parameter: each trial's score against that parameter's value (Agg, PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = max(1, len(param_keys))
    cols = min(n, 3)
    rows = int(math.ceil(n / cols))
    fig = Figure(figsize=(4.2 * cols, 3.4 * rows), dpi=100)
    FigureCanvasAgg(fig)
    scores = np.array([_float(r.get("score")) for r in records])
    for i, key in enumerate(param_keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        xs = np.array([_float(r["params"].get(key)) for r in records])
        ok = np.isfinite(xs) & np.isfinite(scores)
        ax.scatter(xs[ok], scores[ok], s=18, alpha=0.75, color="tab:blue", edgecolors="none")
        if best is not None and key in best["params"]:
            ax.scatter([_float(best["params"][key])], [_float(best.get("score"))], s=120,
                       marker="*", color="tab:red", zorder=3, label="best")
            ax.legend(loc="best", fontsize=8)
        if key in log_keys:
            ax.set_xscale("log")
        ax.set_xlabel(key)
        ax.set_ylabel(metric)
        ax.grid(True, alpha=0.35)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def write_reports(folder: Path, records: Dict[str, dict], metric: str, param_keys: List[str], *,
                  config_ref: str = "", base_opts: Sequence[str] = (), header: Sequence[str] = (),
                  plot: bool = True, log_keys: Sequence[str] = (), title: str = "") -> Optional[dict]:
    """Write trials.csv, best.yaml, best.json (and scores.png); return the best record."""
    folder = Path(folder)
    recs = ranked([r for r in records.values() if r.get("metric", metric) == metric], metric)
    if not recs:
        return None
    keys = list(param_keys) + sorted({k for r in recs for k in r["params"]} - set(param_keys))
    metric_keys = sorted({k for r in recs for k in r.get("metrics", {})} - {metric})
    write_csv(folder / "trials.csv", recs, keys, metric_keys)
    best = recs[0]
    opts = override_opts(best["params"], base_opts)
    direction = "lower" if metric in LOWER_IS_BETTER else "higher"
    head = list(header) + [
        f"best of {len(recs)} trial(s): {metric} = {_float(best.get('score')):.6g} ({direction} is better), "
        f"trial {best.get('trial', '?')}",
        f"as overrides: {format_opts(opts)}"]
    atomic_write_text(folder / "best.yaml", best_yaml_text(best, config_ref, base_opts, head))
    out = {k: v for k, v in best.items() if not k.startswith("_")}
    out.update(opts=opts, config=config_ref, num_trials=len(recs))
    text = json.dumps(json_safe(out), indent=1, allow_nan=False, default=str)
    atomic_write_text(folder / "best.json", text + "\n")
    if plot:
        plot_scores(folder / "scores.png", recs, keys, metric, best, log_keys, title)
    return best
