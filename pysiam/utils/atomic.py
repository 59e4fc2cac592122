"""Atomic file writes: everything pysiam writes goes through a temporary file and a rename.

    with atomic_path("out/scores.png") as tmp:   # write to tmp; renamed over the target on success
        fig.savefig(tmp)
    atomic_write_text("out/result.txt", text)

A killed process leaves at most a ``.<name>.<pid>.tmp`` file beside the target (never a half
file under the real name); :func:`remove_stale_temporaries` clears those of dead processes.
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Iterator, List, Union

__all__ = ["atomic_path", "atomic_write_text", "atomic_write_bytes", "remove_stale_temporaries",
           "temporary_name"]

PathLike = Union[str, "os.PathLike[str]"]
_TMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.tmp(?P<ext>\.[A-Za-z0-9]+)?$")


def temporary_name(path: Path) -> Path:
    """The temporary file beside ``path`` used while writing it (keeps the extension last, so
    writers that pick a format from the name still work)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: PathLike, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on normal exit it is flushed and renamed to
    ``path``, on an exception it is removed. Parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
        if fsync:
            _fsync(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: PathLike, text: str, fsync: bool = True) -> None:
    """Write a text file atomically (temporary file in the same folder, then a rename)."""
    with atomic_path(path, fsync) as tmp:
        tmp.write_text(text)


def atomic_write_bytes(path: PathLike, data: bytes, fsync: bool = True) -> None:
    """Write a binary file atomically (temporary file in the same folder, then a rename)."""
    with atomic_path(path, fsync) as tmp:
        tmp.write_bytes(data)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: PathLike) -> List[Path]:
    """Delete the temporary files that killed writers left in ``folder`` (not recursive);
    files of processes still running are kept. Returns what was removed."""
    folder = Path(folder)
    removed: List[Path] = []
    if not folder.is_dir():
        return removed
    for p in folder.iterdir():
        m = _TMP.match(p.name)
        if m and p.is_file() and not _alive(int(m.group("pid"))):
            p.unlink()
            removed.append(p)
    return removed
