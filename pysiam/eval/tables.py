"""Console tables of evaluation results (one row per tracker, best first)."""
from __future__ import annotations

import math

__all__ = ["render_table", "summary_table", "attribute_table", "video_table", "MAIN_COLUMNS"]

# protocol -> (sort key, [(header, key, format)])
MAIN_COLUMNS = {
    "ope": ("success_auc", [("Success", "success_auc", ".3f"), ("Norm Precision", "norm_precision", ".3f"),
                            ("Precision", "precision", ".3f")]),
    "vot": ("eao", [("Accuracy", "accuracy", ".3f"), ("Robustness", "robustness", ".3f"),
                    ("Lost Number", "lost_number", ".1f"), ("EAO", "eao", ".3f")]),
    "vot-lt": ("f_score", [("Precision", "precision", ".3f"), ("Recall", "recall", ".3f"),
                           ("F-score", "f_score", ".3f")]),
    "got10k": ("ao", [("AO", "ao", ".3f"), ("SR0.50", "sr50", ".3f"), ("SR0.75", "sr75", ".3f")]),
    "davis": ("JF_mean", [("J&F", "JF_mean", ".3f"), ("J-Mean", "J_mean", ".3f"),
                          ("J-Recall", "J_recall", ".3f"), ("J-Decay", "J_decay", ".3f"),
                          ("F-Mean", "F_mean", ".3f"), ("F-Recall", "F_recall", ".3f"),
                          ("F-Decay", "F_decay", ".3f")]),
}


def _fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def render_table(headers: list[str], rows: list[list[str]], title: str | None = None) -> str:
    """A bordered text table with centred cells."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) + 2 if rows else len(h) + 2
              for i, h in enumerate(headers)]
    line = "-" * (sum(widths) + len(widths) + 1)
    fmt = lambda cells: "|" + "|".join(c.center(w) for c, w in zip(cells, widths)) + "|"
    out = ([title] if title else []) + [line, fmt(headers), line] + [fmt(r) for r in rows] + [line]
    return "\n".join(out)


def _sorted(results: dict, key: str) -> list[str]:
    def k(t):
        v = results[t].get(key)
        return -v if isinstance(v, (int, float)) and not math.isnan(v) else math.inf
    return sorted(results, key=lambda t: (k(t), t))


def summary_table(results: dict[str, dict], protocol: str, title: str | None = None) -> str:
    """The main table of a protocol: one row per tracker."""
    key, cols = MAIN_COLUMNS[protocol]
    cols = [c for c in cols if any(c[1] in r for r in results.values())]
    rows = [[t] + [_fmt(results[t].get(k), f) for _, k, f in cols] for t in _sorted(results, key)]
    return render_table(["Tracker"] + [h for h, _, _ in cols], rows, title)


def attribute_table(results: dict[str, dict], key: str, title: str | None = None) -> str | None:
    """Rows: attributes; columns: trackers; cells: `key` of results[t]['per_attribute'][attr]."""
    attrs = sorted({a for r in results.values() for a in r.get("per_attribute", {})})
    if not attrs:
        return None
    trackers = sorted(results)
    rows = [[a] + [_fmt(results[t].get("per_attribute", {}).get(a, {}).get(key), ".3f")
                   for t in trackers] for a in attrs]
    return render_table(["Attribute"] + trackers, rows, title)


def video_table(results: dict[str, dict], keys: list[tuple[str, str, str]], title: str | None = None) -> str | None:
    """Rows: videos; for each tracker the given per-video columns (header, key, format)."""
    videos = sorted({v for r in results.values() for v in r.get("per_video", {})})
    if not videos:
        return None
    trackers = sorted(results)
    headers = ["Video"] + [f"{t} {h}" for t in trackers for h, _, _ in keys]
    rows = [[v] + [_fmt(results[t].get("per_video", {}).get(v, {}).get(k), f)
                   for t in trackers for _, k, f in keys] for v in videos]
    return render_table(headers, rows, title)
