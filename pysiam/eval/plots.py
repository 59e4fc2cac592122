"""PNG plots of evaluation results (matplotlib, Agg canvas; no global pyplot state)."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from pysiam.eval.got10k import GOT_THRESHOLDS
from pysiam.eval.ope import NORM_PRECISION_THRESHOLDS, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS
from pysiam.utils.atomic import atomic_path

__all__ = ["plot_results"]


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    return path


def _legend(ax, n_entries: int) -> None:
    """The legend below the axes (never over the curves), in as many columns as it needs."""
    if n_entries:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=min(3, max(1, (n_entries + 7) // 8)),
                  fontsize=8, frameon=False)


def _videos(results: dict) -> str:
    """' (N videos)' (DAVIS: ' (N objects)') from the results' counts ('' when they carry none)."""
    for key, word in (("num_videos", "videos"), ("num_objects", "objects")):
        counts = [r[key] for r in results.values() if isinstance(r, dict) and r.get(key)]
        if counts:
            return f" ({max(counts)} {word})"
    return ""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def _curves(ax, x, curves: dict[str, tuple[float, list]], xlabel, ylabel, title, legend_loc):
    for name, (score, y) in sorted(curves.items(), key=lambda kv: -np.nan_to_num(kv[1][0], nan=-1)):
        ax.plot(x, y, linewidth=2, label=f"[{score:.3f}] {name}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.4)
    _legend(ax, len(curves))


def _ope_plots(results, dataset, out: Path) -> list[Path]:
    paths = []
    groups = {"ALL": {t: r for t, r in results.items()}}
    for t, r in results.items():
        for a, ra in r.get("per_attribute", {}).items():
            groups.setdefault(a, {})[t] = ra
    for group, res in groups.items():
        tag = "" if group == "ALL" else f"_{_slug(group)}"
        where = (f"on {dataset}" if group == "ALL" else f"- {group}") + _videos(res)
        fig, ax = _figure()
        _curves(ax, SUCCESS_THRESHOLDS, {t: (r["success_auc"], r["success_curve"]) for t, r in res.items()},
                "Overlap threshold", "Success rate", f"Success plots of OPE {where}", "lower left")
        paths.append(_save(fig, out / f"success_{_slug(dataset)}{tag}.png"))
        fig, ax = _figure()
        _curves(ax, PRECISION_THRESHOLDS, {t: (r["precision"], r["precision_curve"]) for t, r in res.items()},
                "Location error threshold (px)", "Precision", f"Precision plots of OPE {where}", "lower right")
        paths.append(_save(fig, out / f"precision_{_slug(dataset)}{tag}.png"))
        if group == "ALL":
            fig, ax = _figure()
            _curves(ax, NORM_PRECISION_THRESHOLDS,
                    {t: (r["norm_precision"], r["norm_precision_curve"]) for t, r in res.items()},
                    "Normalised location error threshold", "Precision",
                    f"Normalised precision plots of OPE {where}", "lower right")
            paths.append(_save(fig, out / f"norm_precision_{_slug(dataset)}.png"))
    return paths


def _vot_plots(results, dataset, out: Path) -> list[Path]:
    fig, ax = _figure()
    interval = None
    for t, r in sorted(results.items(), key=lambda kv: -np.nan_to_num(kv[1].get("eao", np.nan), nan=-1)):
        curve = np.asarray(r["eao_curve"])
        label = f"[{r['eao']:.3f}] {t}" if "eao" in r else t
        ax.plot(np.arange(len(curve)), curve, linewidth=2, label=label)
        interval = r.get("eao_interval", interval)
    if interval:
        ax.axvspan(interval[0], interval[1], color="grey", alpha=0.15, label="EAO interval")
    ax.set_xlabel("Sequence length (frames)")
    ax.set_ylabel("Expected overlap")
    ax.set_title(f"Expected average overlap curves on {dataset}{_videos(results)}")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.4)
    _legend(ax, len(results) + bool(interval))
    paths = [_save(fig, out / f"eao_curve_{_slug(dataset)}.png")]
    ranked = [(t, r["eao"]) for t, r in results.items() if "eao" in r and not math.isnan(r["eao"])]
    if ranked:
        ranked.sort(key=lambda kv: -kv[1])
        fig, ax = _figure()
        bars = ax.barh([t for t, _ in ranked][::-1], [e for _, e in ranked][::-1])
        ax.bar_label(bars, fmt="%.3f", padding=3, fontsize=8)
        ax.set_xlim(0, max(e for _, e in ranked) * 1.15 or 1)
        ax.set_xlabel("EAO")
        ax.set_title(f"EAO ranking on {dataset}{_videos(results)}")
        paths.append(_save(fig, out / f"eao_{_slug(dataset)}.png"))
    return paths


def _lt_plots(results, dataset, out: Path) -> list[Path]:
    fig, ax = _figure()
    for t, r in sorted(results.items(), key=lambda kv: -kv[1]["f_score"]):
        ax.plot(r["pr_curve"]["recall"], r["pr_curve"]["precision"], linewidth=2,
                label=f"[{r['f_score']:.3f}] {t}")
        ax.plot([r["recall"]], [r["precision"]], "o", color=ax.lines[-1].get_color())
    ax.set_xlabel("Tracking recall")
    ax.set_ylabel("Tracking precision")
    ax.set_title(f"Precision / recall on {dataset}{_videos(results)}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.4)
    _legend(ax, len(results))
    return [_save(fig, out / f"precision_recall_{_slug(dataset)}.png")]


def _got_plots(results, dataset, out: Path) -> list[Path]:
    fig, ax = _figure()
    _curves(ax, GOT_THRESHOLDS, {t: (r["ao"], r["success_curve"]) for t, r in results.items()},
            "Overlap threshold", "Success rate", f"Success plots on {dataset}{_videos(results)}", "lower left")
    return [_save(fig, out / f"success_{_slug(dataset)}.png")]


def _davis_plots(results, dataset, out: Path) -> list[Path]:
    fig, ax = _figure()
    names = sorted(results, key=lambda t: -results[t]["JF_mean"])
    x = np.arange(len(names))
    for i, key in enumerate(("JF_mean", "J_mean", "F_mean")):
        ax.bar(x + (i - 1) * 0.25, [results[t][key] for t in names], width=0.25,
               label=key.replace("JF", "J&F").replace("_", " "))
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_title(f"Region (J) and boundary (F) measures on {dataset}{_videos(results)}")
    _legend(ax, 3)
    return [_save(fig, out / f"jf_{_slug(dataset)}.png")]


def plot_results(results: dict[str, dict], protocol: str, dataset: str, out_dir) -> list[Path]:
    """Write the plots of one protocol's results under `out_dir`; returns the PNG paths."""
    if not results:
        return []
    fn = {"ope": _ope_plots, "vot": _vot_plots, "vot-lt": _lt_plots, "got10k": _got_plots,
          "davis": _davis_plots}[protocol]
    return fn(results, dataset, Path(out_dir))
