"""The table of benchmarks and `build_dataset`, the one entry point to read any of them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

from pysiam.datasets.davis_reader import read_davis
from pysiam.datasets.pysot_json import read_pysot_json
from pysiam.datasets.sot_readers import (OTB2013_NAMES, read_got10k, read_lasot, read_nfs,
                                           read_otb, read_trackingnet, read_uav)
from pysiam.datasets.video import Dataset
from pysiam.datasets.vot_readers import read_vot

__all__ = ["BenchmarkSpec", "DATASETS", "build_dataset", "get_spec", "EAO_INTERVALS", "expected_layout"]

# EAO intervals [low, high] of the VOT challenges (pysot and the VOT reports).
EAO_INTERVALS = {"VOT2016": (108, 371), "VOT2017": (100, 356), "VOT2018": (100, 356),
                 "VOT2019": (46, 291)}


@dataclass(frozen=True)
class BenchmarkSpec:
    """How to read and score one benchmark."""
    name: str
    protocol: str                      # 'ope' | 'vot' | 'vot-lt' | 'got10k' | 'davis'
    native: Callable | None            # reader of the benchmark's own layout
    json_names: tuple[str, ...] = ()   # pysot JSON file names (<root>/<name>.json)
    eao_interval: tuple[int, int] | None = None
    aliases: tuple[str, ...] = ()
    options: dict = field(default_factory=dict)


def _read_vot_regions(root, **options):
    """VOT2020+ layout (mask ground truth lines); read by :mod:`pysiam.vot.dataset`."""
    from pysiam.vot.dataset import read_vot_regions

    return read_vot_regions(root, **options)


_SPECS = [
    BenchmarkSpec("OTB100", "ope", read_otb, ("OTB100", "OTB2015"), aliases=("OTB2015", "OTB")),
    BenchmarkSpec("OTB2013", "ope", partial(read_otb, names=OTB2013_NAMES),
                  ("CVPR13", "OTB2013"), aliases=("CVPR13", "CVPR2013")),
    BenchmarkSpec("OTB50", "ope", None, ("OTB50",)),
    BenchmarkSpec("UAV123", "ope", partial(read_uav, version="UAV123"), ("UAV123",)),
    BenchmarkSpec("UAV20L", "ope", partial(read_uav, version="UAV20L"), ("UAV20L",)),
    BenchmarkSpec("LaSOT", "ope", read_lasot, ("LaSOT",)),
    BenchmarkSpec("NFS30", "ope", partial(read_nfs, fps=30), ("NFS30",), aliases=("NfS", "NFS")),
    BenchmarkSpec("NFS240", "ope", partial(read_nfs, fps=240), ("NFS240",)),
    BenchmarkSpec("TrackingNet", "ope", read_trackingnet, ("TrackingNet",)),
    BenchmarkSpec("GOT-10k", "got10k", read_got10k, ("GOT-10k",), aliases=("GOT10k",)),
    *[BenchmarkSpec(f"VOT{y}", "vot", read_vot, (f"VOT{y}",), EAO_INTERVALS[f"VOT{y}"])
      for y in (2016, 2017, 2018, 2019)],
    # VOT2020-2022 short-term: anchor-based multistart, EAO interval of the challenges' stacks
    *[BenchmarkSpec(f"VOT{y}", "multistart", _read_vot_regions, (f"VOT{y}",), (115, 755)) for y in (2020, 2021, 2022)],
    BenchmarkSpec("VOT2018-LT", "vot-lt", partial(read_vot, longterm=True), ("VOT2018-LT",)),
    BenchmarkSpec("VOT2019-LT", "vot-lt", partial(read_vot, longterm=True), ("VOT2019-LT",)),
    # pysiam's generated benchmark (pysiam.data.synthetic.write_otb_layout): OTB layout + SYNTH.json
    BenchmarkSpec("SYNTH", "ope", read_otb, ("SYNTH",), aliases=("SYNTHETIC",)),
    BenchmarkSpec("DAVIS2016", "davis", partial(read_davis, year=2016)),
    BenchmarkSpec("DAVIS2017", "davis", partial(read_davis, year=2017)),
]

DATASETS: dict[str, BenchmarkSpec] = {s.name: s for s in _SPECS}
_LOOKUP = {k.lower(): s for s in _SPECS for k in (s.name, *s.aliases, *s.json_names)}


def get_spec(name: str) -> BenchmarkSpec:
    """The table entry of a benchmark name (case-insensitive, pysot's names accepted)."""
    try:
        return _LOOKUP[name.lower()]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def _find_json(root: Path, spec: BenchmarkSpec, name: str) -> Path | None:
    if root.is_file() and root.suffix == ".json":
        return root
    for stem in (name, *spec.json_names, spec.name):
        p = root / f"{stem}.json"
        if p.is_file():
            return p
    return None


def expected_layout(spec: BenchmarkSpec) -> str:
    """One line on the folder layout(s) `spec` is read from (its reader's docstring, pysot's JSON)."""
    parts = []
    reader = getattr(spec.native, "func", spec.native)
    if reader is not None and reader.__doc__:
        parts.append(" ".join(re.split(r"\.\s", reader.__doc__.strip() + " ", maxsplit=1)[0].split()))
    if spec.json_names:
        parts.append(f"pysot's <root>/{spec.json_names[0]}.json")
    return "; or ".join(parts)


def _no_videos(spec: BenchmarkSpec, root: Path, json_path: Path | None) -> FileNotFoundError:
    found = f"{json_path} lists none" if json_path else f"nothing in the {spec.name} layout"
    return FileNotFoundError(f"{spec.name}: no videos found in {root} ({found}); expected "
                             f"{expected_layout(spec)}. Is --dataset right for this folder?")


def build_dataset(name: str, root: str | Path, *, layout: str = "auto",
                  image_size: tuple[int, int] | None = None, check_frames: bool = False,
                  videos: list[str] | None = None, **options) -> Dataset:
    """Read benchmark `name` from `root`.

    layout: 'json' (pysot's <root>/<NAME>.json, or `root` is the JSON file), 'native' (the
    benchmark's own folders) or 'auto' (JSON when present, else native). `image_size`
    (width, height) overrides the size of every video (to score without frames);
    `check_frames` verifies that every listed frame exists; `videos` keeps only those names.
    Other options go to the native reader (split='val' for GOT-10k, split='TEST' for
    TrackingNet, split='val' / resolution='480p' for DAVIS).
    """
    spec = get_spec(name)
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"dataset root not found: {root}")
    if layout not in ("auto", "json", "native"):
        raise ValueError(f"layout must be 'auto', 'json' or 'native', not {layout!r}")
    json_path = _find_json(root, spec, name) if layout in ("auto", "json") else None
    if json_path is not None:
        vids = read_pysot_json(json_path, root, names=videos)
        if not vids and not videos:
            raise _no_videos(spec, root, json_path)
    elif layout == "json":
        raise FileNotFoundError(f"no pysot JSON for {spec.name} in {root} "
                                f"(looked for {', '.join(j + '.json' for j in spec.json_names)})")
    elif spec.native is None:
        raise FileNotFoundError(f"{spec.name} is read from pysot's {spec.json_names[0]}.json, "
                                f"not found in {root}")
    else:
        vids = spec.native(root, **{**spec.options, **options})
        if not vids:
            raise _no_videos(spec, root, None)
        if videos is not None:
            vids = {k: v for k, v in vids.items() if k in videos}
    if videos is not None:
        missing = sorted(set(videos) - set(vids))
        if missing:
            raise KeyError(f"{spec.name}: no video(s) {', '.join(missing)} in {root}")
    ds = Dataset(spec.name, str(root), vids, spec.protocol, eao_interval=spec.eao_interval,
                 meta={"layout": "json" if json_path else "native", "options": options})
    if image_size is not None:
        ds.set_image_size(image_size)
    if check_frames:
        ds.check_frames()
    return ds
