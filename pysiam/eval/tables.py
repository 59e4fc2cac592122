"""Console tables of evaluation results (one row per tracker, best first)."""
from __future__ import annotations

import math

__all__ = ["render_table", "summary_table", "attribute_table", "video_table"]


def _fmt(value: object, spec: str) -> str:
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
    def rank(t: str) -> float:
        v = results[t].get(key)
        return -v if isinstance(v, (int, float)) and not math.isnan(v) else math.inf
    return sorted(results, key=lambda t: (rank(t), t))


def summary_table(results: dict[str, dict], columns: tuple[str, list], title: str | None = None) -> str:
    """The main table of a protocol (``columns`` = its (sort key, [(header, key, format)])): one row
    per tracker, best first."""
    key, cols = columns
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
