"""What every command-line tool shares: logging set-up, user-facing errors, trailing overrides."""
from __future__ import annotations

import logging
import sys
import argparse
from typing import Any, Callable, List, Optional, Sequence, Tuple, Type, TypeVar

from pysiam.config import ConfigError

T = TypeVar("T")

# Errors caused by the user's input (a bad path, key, file or value): printed on one line, exit 2.
USER_ERRORS: Tuple[Type[BaseException], ...] = (ConfigError, FileNotFoundError, KeyError, ValueError, OSError)


def setup_logging() -> None:
    """INFO-level logging in the tools' common format."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


def guarded(prog: str, fn: Callable[[], T], extra: Tuple[Type[BaseException], ...] = ()) -> Tuple[int, T]:
    """Run ``fn``; a user error is printed as ``<prog>: error: ...`` and gives exit code 2.

    Returns (exit code, fn's result or None).
    """
    try:
        return 0, fn()
    except USER_ERRORS + extra as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"{prog}: error: {msg}", file=sys.stderr)
        return 2, None


def print_json(result: Any, path: Optional[str] = None) -> str:
    """Print ``result`` as indented, key-sorted JSON and, with ``path``, write it there atomically."""
    import json

    from pysiam.utils.atomic import atomic_write_text

    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if path:
        atomic_write_text(path, text + "\n")
    return text


def add_dataset_arguments(p: argparse.ArgumentParser, videos: bool = True) -> None:
    """``--dataset``, ``--dataset-root``, ``--split``, ``--layout`` (and ``--videos``): how a tool names a benchmark."""
    p.add_argument("--dataset", required=True, help="benchmark name, e.g. OTB100, VOT2018, DAVIS2017")
    p.add_argument("--dataset-root", required=True, help="dataset folder (native layout or pysot JSON)")
    p.add_argument("--split", default=None, help="dataset split (GOT-10k val/test, TrackingNet TEST, DAVIS val)")
    p.add_argument("--layout", choices=("auto", "json", "native"), default="auto")
    if videos:
        p.add_argument("--videos", nargs="+", help="only these videos")


def strip_separator(opts: Sequence[str]) -> List[str]:
    """Trailing ``KEY VALUE`` overrides without a leading ``--`` (``--videos a b -- KEY VALUE``)."""
    opts = list(opts)
    return opts[1:] if opts[:1] == ["--"] else opts
