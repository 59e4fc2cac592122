"""The speed benchmark's figures as an aligned text table."""
from __future__ import annotations

from typing import Any, Dict

__all__ = ["format_table", "PARTS"]

PARTS = ("tracker", "batched", "model", "train", "data")


def format_table(result: Dict[str, Any]) -> str:
    """The figures as an aligned text table."""
    rows = []

    def add(what, value, unit, note=""):
        rows.append((what, f"{value:.2f}" if isinstance(value, float) else str(value), unit, note))

    for part in PARTS:
        if "error" in result.get(part, {}):
            add(part, "failed", "", result[part]["error"])
    if "tracker" in result and "error" not in result["tracker"]:
        t = result["tracker"]
        add("tracker (single stream)", t["fps_median"], "frames/s", f"median of {t['frames']} frames")
    if "batched" in result and "error" not in result["batched"]:
        b = result["batched"]
        add(f"batched engine (batch {b['batch']})", b["frames_per_s"], "frames/s", f"{b['videos']} videos")
        if "sequential_frames_per_s" in b:
            add("sequential runner", b["sequential_frames_per_s"], "frames/s",
                f"batched speed-up x{b['speedup']:.2f}")
    if "model" in result and "error" not in result["model"]:
        m = result["model"]
        add("model search pass", m["search_ms_median"], "ms", f"batch 1, {m['search_size']}px")
        add("model template pass", m["template_ms_median"], "ms")
    if "train" in result and "error" not in result["train"]:
        t = result["train"]
        add("training step", t["samples_per_s"], "samples/s", f"batch {t['batch']}, {t['method']}")
    if "data" in result and "error" not in result["data"]:
        d = result["data"]
        add("data loader", d["samples_per_s"], "samples/s", f"{d['workers']} worker(s)")
    head = f"{result['config']} on {result['device']} ({result['threads']} threads), options: " + \
        (", ".join(f"{k}={v}" for k, v in result["options"].items() if v and k != "compile_backend") or "exact fp32")
    width = max([len(r[0]) for r in rows] + [10])
    lines = [head, "-" * len(head)]
    lines += [f"{r[0]:<{width}}  {r[1]:>10}  {r[2]:<9}  {r[3]}".rstrip() for r in rows]
    return "\n".join(lines)
