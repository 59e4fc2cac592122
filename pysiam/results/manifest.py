"""Run manifests: what produced a tracker's result folder, so that a resumed run can tell
whether the files already there came from the same set-up.

``tools/test.py`` treats a video as done when its result file exists. Without a record of how
those files were made, rerunning with other hyper-parameters, another snapshot under the same
file name, or another tracker type would keep the old boxes under the new name. Typical use::

    manifest = RunManifest.create(cfg, snapshot, protocol={"dataset": "VOT2018", "skip": 5})
    name = args.name or default_tracker_name(args.config, snapshot, cfg)
    write_or_check(Path(output) / "VOT2018" / name, manifest, overwrite=args.overwrite)

``<tracker_dir>/run.json`` is written (atomically) by the first run; a later run with another
set-up fails with one line naming the fields that differ and what to do.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from pysiam.utils.atomic import atomic_write_text

__all__ = ["RunManifest", "MANIFEST_NAME", "write_or_check", "read_manifest", "default_tracker_name",
           "require_snapshot", "config_for_digest", "snapshot_sha256", "manifest_differences"]

MANIFEST_NAME = "run.json"
#: config parts that do not change what a tracker outputs (training, data, labels, devices)
_NOT_RESULTS = ("TRAIN", "DATASET", "INFERENCE", "DEVICE", "CUDA", "META_ARC")
_NOT_RESULTS_BACKBONE = ("PRETRAINED", "TRAIN_LAYERS", "LAYERS_LR", "TRAIN_EPOCH")
#: INFERENCE options that change speed only, never the numbers
_SPEED_ONLY = ("PREFETCH", "THREADS")
#: manifest fields a resumed run must match (the rest is information)
COMPARED = ("config_digest", "snapshot_sha256", "tracker_type", "backend", "protocol", "pysiam_version")


def _plain(node: Any) -> Any:
    """A config node as JSON-able plain data (tuples become lists)."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(v) for v in node]
    return node


def config_for_digest(cfg: Mapping) -> Dict[str, Any]:
    """The merged config without the parts that cannot change the results (see _NOT_RESULTS)."""
    plain = _plain(cfg)
    out = {k: v for k, v in plain.items() if k not in _NOT_RESULTS}
    if isinstance(out.get("BACKBONE"), dict):
        out["BACKBONE"] = {k: v for k, v in out["BACKBONE"].items() if k not in _NOT_RESULTS_BACKBONE}
    return out


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _cache_file() -> Path:
    base = os.environ.get("PYSIAM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pysiam")
    return Path(base) / "snapshot_sha256.json"


def snapshot_sha256(path: str | os.PathLike, cache_file: Optional[Path] = None) -> str:
    """sha256 of a snapshot file, cached by (absolute path, mtime, size) in ``cache_file``
    (default ``~/.cache/pysiam/snapshot_sha256.json``; ``PYSIAM_CACHE_DIR`` moves it) so that a
    large file is hashed once; an unwritable cache only costs the rehash."""
    p = Path(path).resolve()
    if not p.is_file():
        raise FileNotFoundError(f"snapshot not found: {path}")
    st = p.stat()
    key, stamp = str(p), [st.st_size, st.st_mtime_ns]
    cache_file = Path(cache_file) if cache_file is not None else _cache_file()
    try:
        cache = json.loads(cache_file.read_text())
        if not isinstance(cache, dict):
            cache = {}
    except (OSError, ValueError):
        cache = {}
    hit = cache.get(key)
    if isinstance(hit, dict) and hit.get("stamp") == stamp and isinstance(hit.get("sha256"), str):
        return hit["sha256"]
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    cache[key] = {"stamp": stamp, "sha256": h.hexdigest()}
    try:
        atomic_write_text(cache_file, json.dumps(cache, indent=0, sort_keys=True) + "\n")
    except OSError:
        pass
    return h.hexdigest()


@dataclass
class RunManifest:
    """How a result folder was produced; :data:`COMPARED` fields must match on a resumed run."""

    config_digest: str
    snapshot_sha256: str                      # '' for random weights
    tracker_type: str
    backend: Dict[str, Any]
    protocol: Dict[str, Any]
    pysiam_version: str
    snapshot: str = ""                        # path as given (information only)
    config: Dict[str, Any] = field(default_factory=dict)   # what the digest covers, for diffs
    created: str = ""

    @classmethod
    def create(cls, cfg: Mapping, snapshot: str = "", *, protocol: Optional[Mapping[str, Any]] = None,
               device: Optional[str] = None, cache_file: Optional[Path] = None) -> "RunManifest":
        """The manifest of running ``cfg`` (merged, with overrides and INFERENCE flags applied)
        with weights ``snapshot`` ('' = random); ``protocol``: dataset, skip, split, ...;
        ``device``: the device actually used (default ``cfg.DEVICE``)."""
        import pysiam

        conf = config_for_digest(cfg)
        inference = _plain(cfg.get("INFERENCE", {}))
        backend = {"DEVICE": str(device if device is not None else cfg.get("DEVICE", "")),
                   **{k: v for k, v in sorted(inference.items()) if k not in _SPEED_ONLY}}
        return cls(config_digest=_digest(conf),
                   snapshot_sha256=snapshot_sha256(snapshot, cache_file) if snapshot else "",
                   tracker_type=str(cfg.get("TRACK", {}).get("TYPE", "")),
                   backend=backend, protocol=_plain(dict(protocol or {})),
                   pysiam_version=pysiam.__version__, snapshot=str(snapshot), config=conf,
                   created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "run.json") -> "RunManifest":
        missing = [k for k in COMPARED if k not in data]
        if missing:
            raise ValueError(f"{where}: not a pysiam run manifest (missing {', '.join(missing)})")
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def read_manifest(tracker_dir: str | os.PathLike) -> Optional[RunManifest]:
    """The manifest of a result folder, None when it has none; a broken file is an error."""
    path = Path(tracker_dir) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: unreadable run manifest ({e}); delete it or use --overwrite") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a pysiam run manifest")
    return RunManifest.from_dict(data, str(path))


def _dict_changes(old: Mapping, new: Mapping, prefix: str = "", limit: int = 4) -> List[str]:
    out: List[str] = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k, "<unset>"), new.get(k, "<unset>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += _dict_changes(a, b, f"{prefix}{k}.", limit)
        elif a != b:
            out.append(f"{prefix}{k} {a!r} -> {b!r}")
    return out[:limit]


def manifest_differences(old: RunManifest, new: RunManifest) -> List[str]:
    """One phrase per :data:`COMPARED` field that differs (empty: same set-up)."""
    diffs = []
    for name in COMPARED:
        a, b = getattr(old, name), getattr(new, name)
        if a == b:
            continue
        if name == "config_digest":
            detail = ", ".join(_dict_changes(old.config, new.config)) or f"{a[:8]} -> {b[:8]}"
            diffs.append(f"config ({detail})")
        elif name == "snapshot_sha256":
            diffs.append(f"snapshot ({old.snapshot or 'random weights'} sha256 {a[:8] or '-'} -> "
                         f"{new.snapshot or 'random weights'} sha256 {b[:8] or '-'})")
        elif isinstance(a, Mapping) and isinstance(b, Mapping):
            diffs.append(f"{name} ({', '.join(_dict_changes(a, b))})")
        else:
            diffs.append(f"{name} ({a!r} -> {b!r})")
    return diffs


def _has_results(tracker_dir: Path) -> bool:
    return tracker_dir.is_dir() and any(not p.name.startswith(".") and p.name != MANIFEST_NAME
                                        for p in tracker_dir.iterdir())


def write_or_check(tracker_dir: str | os.PathLike, manifest: RunManifest, overwrite: bool = False) -> RunManifest:
    """Write ``<tracker_dir>/run.json`` on the first run (or with ``overwrite``); on a resumed
    run, raise ValueError naming the fields that differ from the recorded set-up. A folder that
    holds results but no manifest is an error too (nothing says how they were made)."""
    tracker_dir = Path(tracker_dir)
    path = tracker_dir / MANIFEST_NAME
    old = None if overwrite else read_manifest(tracker_dir)
    if old is None and not overwrite and _has_results(tracker_dir):
        raise ValueError(f"{tracker_dir} holds results without a {MANIFEST_NAME}: nothing says how they "
                         f"were made; use --overwrite to rerun every video there, or --name for a new folder")
    if old is not None:
        diffs = manifest_differences(old, manifest)
        if diffs:
            raise ValueError(f"{path}: the results there were made with another set-up: "
                             f"{'; '.join(diffs)}; use --overwrite to replace them, or --name for a "
                             f"new results folder")
        return old
    atomic_write_text(path, manifest.to_json())
    return manifest


def _config_label(config_ref: str | os.PathLike) -> str:
    p = Path(str(config_ref))
    if p.is_dir() or p.stem == "config":       # a pysot experiment folder / its config.yaml
        return (p if p.is_dir() else p.parent).resolve().name or "config"
    return p.stem or "config"


def default_tracker_name(config_ref: str | os.PathLike, snapshot: str, cfg: Mapping,
                         cache_file: Optional[Path] = None) -> str:
    """``<config>-<snapshot stem>-<6 hex>``, e.g. ``siamrpn_r50_l234_dwxcorr-checkpoint_e4-1a2b3c``:
    the digest covers the config (with overrides and INFERENCE options) and the snapshot's
    content, so other hyper-parameters or another file with the same name get another folder."""
    stem = Path(snapshot).name.split(".")[0] if snapshot else "random"
    inference = {k: v for k, v in _plain(cfg.get("INFERENCE", {})).items() if k not in _SPEED_ONLY}
    key = {"config": config_for_digest(cfg), "inference": inference,
           "snapshot": snapshot_sha256(snapshot, cache_file) if snapshot else ""}
    return f"{_config_label(config_ref)}-{stem}-{_digest(key)[:6]}"


def require_snapshot(snapshot: str, random_weights: bool, config_ref: str | os.PathLike = "") -> None:
    """A run without ``--snapshot`` must say ``--random-weights``: otherwise an experiment folder
    or config run by mistake without its weights tracks with random weights and exits 0."""
    if snapshot or random_weights:
        return
    hint = ""
    folder = Path(str(config_ref)) if config_ref else None
    if folder is not None and (folder.is_dir() or folder.name == "config.yaml"):
        base = folder if folder.is_dir() else folder.parent
        found = sorted(base.glob("*.pth")) + sorted(base.glob("snapshot/*.pth"))
        if found:
            hint = f" (this experiment folder has {found[-1]})"
    raise ValueError(f"no --snapshot given{hint}: the model would have random weights; pass "
                     f"--snapshot FILE.pth, or --random-weights to run untrained on purpose")
