"""The trial table: one JSON line per finished trial, appended and fsync'd, so it survives a kill.

Each process that evaluates trials appends to its own file in the search folder
(``trials.jsonl``, or ``trials.shard<i>of<N>.jsonl`` for shard i of N), so no two writers share a
file. Reading takes the union of all ``trials*.jsonl`` files: a rerun (with any sharding) skips
the settings found there. A line cut short by a kill is ignored with a warning; the next append
starts on a fresh line.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Tuple

from pysiam.results.files import atomic_write_text

__all__ = ["TrialTable", "table_file_name", "read_records", "ranked", "write_csv",
           "LOWER_IS_BETTER", "json_safe"]

logger = logging.getLogger("pysiam.tune")

# Metrics where a smaller value is better; every other metric is maximised.
LOWER_IS_BETTER = frozenset({"robustness", "lost_number"})


def table_file_name(shard: Tuple[int, int] = (0, 1)) -> str:
    rank, world = shard
    return "trials.jsonl" if world == 1 else f"trials.shard{rank}of{world}.jsonl"


def read_records(folder: Path) -> Dict[str, dict]:
    """{trial key: record} from every trials*.jsonl in ``folder`` (first occurrence wins)."""
    out: Dict[str, dict] = {}
    for path in sorted(Path(folder).glob("trials*.jsonl")):
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
        for i, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
                key = rec["key"]
            except (ValueError, KeyError, TypeError):
                logger.warning("%s:%d: ignored an unreadable line (a write cut short by a kill?)",
                               path, i)
                continue
            if key in out:
                logger.warning("%s:%d: trial %s is already recorded in %s; keeping the first",
                               path, i, key, out[key].get("_file"))
                continue
            rec["_file"] = path.name
            out[key] = rec
    return out


class TrialTable:
    """Append-only record of finished trials in ``folder`` (see the module docstring)."""

    def __init__(self, folder, shard: Tuple[int, int] = (0, 1)):
        self.folder = Path(folder)
        self.path = self.folder / table_file_name(shard)

    def load(self) -> Dict[str, dict]:
        return read_records(self.folder)

    def append(self, record: dict) -> None:
        """Write one record as one line and fsync it before returning."""
        self.folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps(json_safe({k: v for k, v in record.items() if not k.startswith("_")}),
                          separators=(",", ":"), allow_nan=False) + "\n"
        with open(self.path, "ab") as f:
            if f.tell() > 0 and not _ends_with_newline(self.path):
                f.write(b"\n")          # the previous writer was killed mid-line
            f.write(line.encode())
            f.flush()
            os.fsync(f.fileno())


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def json_safe(obj: Any) -> Any:
    """NaN / inf become None so that every line is strict JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def _sort_value(rec: dict, lower_better: bool) -> float:
    s = rec.get("score")
    if s is None or not isinstance(s, (int, float)) or not math.isfinite(s):
        return math.inf
    return s if lower_better else -s


def ranked(records: Iterable[dict], metric: str) -> List[dict]:
    """Records best first; ties go to the earlier trial name, then the key (never file order)."""
    lower = metric in LOWER_IS_BETTER
    return sorted(records, key=lambda r: (_sort_value(r, lower), str(r.get("trial", "")), r["key"]))


def write_csv(path: Path, records: List[dict], param_keys: List[str], metric_keys: List[str]) -> None:
    """A ranked table: rank, trial, score, the parameters, the other metrics, time."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rank", "trial", "score", *param_keys, *metric_keys, "seconds", "fps"])
    for i, r in enumerate(records, 1):
        p, m = r.get("params", {}), r.get("metrics", {})
        w.writerow([i, r.get("trial", ""), _cell(r.get("score")), *(_cell(p.get(k)) for k in param_keys),
                    *(_cell(m.get(k)) for k in metric_keys), _cell(r.get("seconds")), _cell(r.get("fps"))])
    atomic_write_text(path, buf.getvalue())


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
