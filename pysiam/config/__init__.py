"""Configuration: yacs defaults with pysot's keys, YAML ``_BASE_`` inheritance, ``KEY VALUE`` overrides.

Typical use::

    from pysiam.config import load_config
    cfg = load_config("siamrpn_r50_l234_dwxcorr", ["TRACK.LR", "0.3"])

A config argument is either a path to a YAML file or the name of a shipped config
(``pysiam/configs/<name>.yaml``). Unknown keys fail with :class:`ConfigError`, which names the
file, the line and the nearest valid key.
"""
from __future__ import annotations

import difflib
import os
import re
from ast import literal_eval
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import yaml
from yacs.config import CfgNode

from .defaults import _C

__all__ = ["CfgNode", "ConfigError", "get_cfg", "load_config", "config_path", "list_configs",
           "merge_overrides", "flatten_keys"]

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
BASE_KEY = "_BASE_"


class ConfigError(ValueError):
    """A configuration file or override is invalid; the message says where and why."""


def get_cfg() -> CfgNode:
    """Return a fresh, mutable copy of the default configuration."""
    return _C.clone()


def list_configs() -> List[str]:
    """Names of the configs shipped with pysiam."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def config_path(name_or_path: Union[str, os.PathLike]) -> Path:
    """Resolve a YAML path or the name of a shipped config to an existing file."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    for cand in (CONFIG_DIR / p, CONFIG_DIR / f"{p}.yaml", CONFIG_DIR / p.name):
        if cand.is_file():
            return cand
    if p.is_dir() and (p / "config.yaml").is_file():  # a pysot experiment folder
        return p / "config.yaml"
    close = difflib.get_close_matches(p.stem, list_configs(), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; shipped configs: {', '.join(list_configs())}"
    raise ConfigError(f"config file not found: {name_or_path}{hint}")


def flatten_keys(node: CfgNode, prefix: str = "") -> List[str]:
    """All dotted keys of a config tree (leaves and inner nodes)."""
    out = []
    for k, v in node.items():
        full = f"{prefix}{k}"
        out.append(full)
        if isinstance(v, CfgNode):
            out.extend(flatten_keys(v, full + "."))
    return out


def _nearest(key: str, node: CfgNode) -> str:
    keys = flatten_keys(node)
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    if not close:  # compare the last component only
        leaf = key.rsplit(".", 1)[-1]
        leaves = {k.rsplit(".", 1)[-1]: k for k in keys}
        m = difflib.get_close_matches(leaf, list(leaves), n=1, cutoff=0.6)
        close = [leaves[m[0]]] if m else []
    return f" (nearest valid key: {close[0]})" if close else ""


# dotted key path -> (file, 1-based line) of the file that last set it in a _BASE_ chain
Origins = Dict[str, Tuple[Path, int]]


def _key_lines(node, path: Path, prefix: str = "") -> Origins:
    """The line of every key of a composed YAML mapping, by full dotted path."""
    out: Origins = {}
    if not isinstance(node, yaml.MappingNode):
        return out
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        full = f"{prefix}{key_node.value}"
        out[full] = (path, key_node.start_mark.line + 1)
        out.update(_key_lines(value_node, path, full + "."))
    return out


def _where(origins: Origins, dotted: str, path: Optional[Path]) -> str:
    """'<file>, line N: ' of the file and line that set ``dotted`` (else of its section)."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        hit = origins.get(".".join(parts[:n]))
        if hit:
            return f"{hit[0]}, line {hit[1]}: "
    return f"{path}: " if path else ""


def _check_keys(data: dict, node: CfgNode, origins: Origins, path: Optional[Path], root: CfgNode,
                prefix: str = "") -> None:
    """Fail on keys that the defaults do not have (unless the node allows new keys)."""
    for k, v in data.items():
        full = f"{prefix}{k}"
        if k not in node:
            # KWARGS sections take any key; DATASET takes new sources (sections), not new scalars.
            if node.is_new_allowed() and (prefix != "DATASET." or isinstance(v, dict)):
                continue
            raise ConfigError(f"{_where(origins, full, path)}unknown config key {full}{_nearest(full, root)}")
        if isinstance(node[k], CfgNode):
            if not isinstance(v, dict):
                raise ConfigError(f"{_where(origins, full, path)}config key {full} is a section, got {v!r}")
            _check_keys(v, node[k], origins, path, root, full + ".")


def _read_yaml(path: Path, seen: Sequence[Path] = ()) -> Tuple[dict, Origins]:
    """Read a YAML file and resolve its ``_BASE_`` chain (relative to the file, or a shipped name).

    Returns (merged data, the file and line that set each key)."""
    path = path.resolve()
    if path in seen:
        raise ConfigError(f"{path}: _BASE_ cycle: {' -> '.join(map(str, seen))}")
    try:
        text = path.read_text()
        data = yaml.safe_load(text) or {}
        origins = _key_lines(yaml.compose(text, Loader=yaml.SafeLoader), path)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {e}") from None
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file must hold a mapping of keys, got {type(data).__name__}")
    bases = data.pop(BASE_KEY, None)
    if bases is None:
        return data, origins
    merged: dict = {}
    merged_origins: Origins = {}
    for base in [bases] if isinstance(bases, str) else list(bases):
        local = path.parent / str(base)
        try:
            base_path = local if local.is_file() else config_path(base)
        except ConfigError as e:
            line = origins.get(BASE_KEY, (path, 0))[1]
            raise ConfigError(f"{path}, line {line}: _BASE_ {base!r} not found (looked for {local} "
                              f"and a shipped config){str(e).partition(str(base))[2]}") from None
        base_data, base_origins = _read_yaml(base_path, tuple(seen) + (path,))
        _deep_update(merged, base_data)
        merged_origins.update(base_origins)
    _deep_update(merged, data)
    merged_origins.update({k: v for k, v in origins.items() if k != BASE_KEY})
    return merged, merged_origins


def _deep_update(dst: dict, src: dict) -> dict:
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _deep_update(dst[k], v)
        else:
            dst[k] = v
    return dst


def merge_file(cfg: CfgNode, name_or_path: Union[str, os.PathLike]) -> CfgNode:
    """Merge a YAML file (with its ``_BASE_`` chain) into ``cfg`` in place."""
    path = config_path(name_or_path)
    data, origins = _read_yaml(path)
    _check_keys(data, cfg, origins, path, cfg)
    try:
        cfg.merge_from_other_cfg(CfgNode(data))
    except (KeyError, ValueError, AssertionError) as e:
        m = re.search(r"for config key: (\S+)", str(e))
        where = _where(origins, m.group(1), path) if m else f"{path}: "
        raise ConfigError(f"{where}{e}") from None
    return cfg


def merge_overrides(cfg: CfgNode, opts: Optional[Iterable[str]]) -> CfgNode:
    """Merge trailing command-line ``KEY VALUE`` pairs into ``cfg`` in place."""
    opts = list(opts or [])
    if len(opts) % 2:
        raise ConfigError(f"overrides must come as KEY VALUE pairs, got an odd count: {opts}")
    for key, raw in zip(opts[0::2], opts[1::2]):
        node, parts = cfg, key.split(".")
        for p in parts[:-1]:
            if p not in node or not isinstance(node[p], CfgNode):
                raise ConfigError(f"unknown config key {key}{_nearest(key, cfg)}")
            node = node[p]
        leaf = parts[-1]
        if leaf not in node and not node.is_new_allowed():
            raise ConfigError(f"unknown config key {key}{_nearest(key, cfg)}")
        try:
            value = literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        if leaf in node:
            value = _coerce(value, node[leaf], key)
        node[leaf] = value
    return cfg


def _coerce(value, default, key: str):
    """Cast an override to the default's type the way yacs does (int -> float, list <-> tuple)."""
    if default is None or value is None or isinstance(value, type(default)):
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, (list, tuple)) and isinstance(value, (list, tuple)):
        return type(default)(value)
    if isinstance(default, str):
        return str(value)
    raise ConfigError(f"config key {key} expects {type(default).__name__}, got {value!r}")


def load_config(name_or_path: Optional[Union[str, os.PathLike]] = None,
                opts: Optional[Iterable[str]] = None, freeze: bool = False) -> CfgNode:
    """Defaults, then the YAML file (if any), then ``KEY VALUE`` overrides; optionally frozen."""
    cfg = get_cfg()
    if name_or_path:
        merge_file(cfg, name_or_path)
    merge_overrides(cfg, opts)
    cfg.ANCHOR.ANCHOR_NUM = len(cfg.ANCHOR.RATIOS) * len(cfg.ANCHOR.SCALES)
    if freeze:
        cfg.freeze()
    return cfg
