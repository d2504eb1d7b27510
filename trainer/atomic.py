"""Write outputs atomically: a reader sees the old output or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Build a folder in a staging folder beside ``target``, then put it in place.

    The body writes into the yielded staging folder. When it succeeds the staging folder becomes
    ``target`` (an existing ``target`` is moved aside first and removed only once the new one is in
    place); when it fails the staging folder is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield staging
        if target.exists():
            backup = target.with_name(f".{target.name}.old")
            shutil.rmtree(backup, ignore_errors=True)
            target.rename(backup)
            staging.rename(target)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` for a writer that takes a path; then put it in place.

    The temporary file comes from ``mkstemp`` in the target's folder (same file system, so the final
    ``os.replace`` is atomic) and keeps the target's suffix (libraries infer the format from it). When
    the body succeeds the file is flushed to disk and replaces ``target``; when it fails it is removed
    and ``target`` is left as it was.
    """
    target = Path(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_file(target: Path, *, newline: str | None = None) -> Iterator[TextIO]:
    """Yield a UTF-8 text file that replaces ``target`` once fully written (see :func:`atomic_path`)."""
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8", newline=newline) as fh:
        yield fh
        fh.flush()


def write_text_atomic(target: Path, text: str, *, newline: str | None = "\n") -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically: a reader sees the old file or the new one."""
    with atomic_file(target, newline=newline) as fh:
        fh.write(text)


def write_text_new(target: Path, text: str, *, newline: str | None = "\n") -> bool:
    """Write ``text`` (UTF-8) to ``target`` only if nothing is there yet; never replace a file.

    The text goes to a temporary file beside ``target`` (fsync), which is then hard-linked to ``target``:
    ``os.link`` fails when ``target`` exists, so an existing file (a letter: a record) is never
    replaced, even by a concurrent writer, and a reader sees the whole file or none.

    Returns:
        True when written, False when ``target`` already existed (it is left untouched).
    """
    target = Path(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)
