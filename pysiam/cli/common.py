"""What every command-line tool shares: logging set-up, user-facing errors, trailing overrides."""
from __future__ import annotations

import logging
import sys
from typing import Callable, List, Sequence, Tuple, Type, TypeVar

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


def strip_separator(opts: Sequence[str]) -> List[str]:
    """Trailing ``KEY VALUE`` overrides without a leading ``--`` (``--videos a b -- KEY VALUE``)."""
    opts = list(opts)
    return opts[1:] if opts[:1] == ["--"] else opts
