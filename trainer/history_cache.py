"""A cache of aggregated history features, so a portfolio opens fast and small after the first time.

Aggregating the real history tables (27 M bureau_balance rows, 13 M instalments) takes tens of seconds
and a few GB. The result is small (one row of ~45 floats per client), so it is cached as parquet:

- the key covers the feature code version, the tables used and each file's name and size plus its
  content hash (small files) or modification time (large files), so any change of the data rebuilds;
- a cache file beside the clients file is used when present (the bundled demo ships one), otherwise
  the user's cache folder; a cache that cannot be read or written is simply rebuilt / skipped;
- large builds can run in a separate process, so the memory they need is returned to the system
  before the caller (the advisor app) goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import platformdirs
import pyarrow.parquet as pq

from trainer.atomic import atomic_path
from trainer.data import read_table
from trainer.features import FEATURES_VERSION, aggregate_history

#: Files up to this total size are keyed by content; larger ones by size and modification time.
CONTENT_HASH_LIMIT = 64 * 1024 * 1024
#: Above this total size the aggregation runs in a child process.
ISOLATE_ABOVE = 256 * 1024 * 1024
CACHE_PREFIX = "history_features."


def user_cache_dir() -> Path:
    """The per-user folder holding cached history features."""
    return Path(platformdirs.user_cache_dir("credit-tui")) / "history"


def cache_key(paths: Mapping[str, Path]) -> str:
    """A key that changes whenever the feature code, the tables used or any of their files change."""
    digest = hashlib.sha256(f"features-v{FEATURES_VERSION}".encode())
    total = sum(path.stat().st_size for path in paths.values())
    for name in sorted(paths):
        path = paths[name]
        stat = path.stat()
        digest.update(f"\0{name}\0{path.name}\0{stat.st_size}".encode())
        if total <= CONTENT_HASH_LIMIT:
            digest.update(path.read_bytes())
        else:
            digest.update(f"\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:24]


def cache_file_name(paths: Mapping[str, Path]) -> str:
    """File name of the cache for these tables."""
    return f"{CACHE_PREFIX}{cache_key(paths)}.parquet"


def build_history(paths: Mapping[str, Path]) -> pd.DataFrame:
    """Aggregate the history tables at ``paths`` (every client they mention)."""
    return aggregate_history(lambda name, columns: read_table(paths[name], name, columns), list(paths))


def read_history(path: Path) -> pd.DataFrame:
    """Read a cached history frame, freeing each Arrow column as soon as it is converted."""
    frame: pd.DataFrame = pq.read_table(path).to_pandas(self_destruct=True, split_blocks=True)
    return frame


def write_history(frame: pd.DataFrame, target: Path) -> None:
    """Write a history frame atomically (temporary file in the same folder, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        frame.to_parquet(tmp, index=True)


def _build_and_write(paths: dict[str, Path], target: Path) -> None:
    write_history(build_history(paths), target)


def _child_main(spec: str) -> None:
    """Entry point of the child process started by :func:`_build_in_child` (``spec``: JSON)."""
    args = json.loads(spec)
    _build_and_write({name: Path(path) for name, path in args["paths"].items()}, Path(args["target"]))


def _build_in_child(paths: Mapping[str, Path], target: Path) -> bool:
    """Build and write the cache in a fresh Python process; False when that did not work.

    A plain subprocess rather than ``multiprocessing``: its spawn start needs ``sys.stderr.fileno()``
    (for the resource tracker), which fails inside a running Textual app ("bad value(s) in
    fds_to_keep"), where the advisor app loads a portfolio. The child's output is kept off the terminal.
    """
    spec = json.dumps({"paths": {name: str(path) for name, path in paths.items()}, "target": str(target)})
    code = "import sys; from trainer.history_cache import _child_main; _child_main(sys.argv[1])"
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, spec],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0 and target.is_file()


def load_history_features(paths: Mapping[str, Path], beside: Path | None = None) -> pd.DataFrame:
    """Return the aggregated history of ``paths``, from a cache when one matches.

    Args:
        paths: History table name -> file, for the tables to aggregate.
        beside: A folder to look for a ready cache file in first (the clients file's folder).

    Raises:
        DataError: When a history file cannot be read (one clear sentence).
    """
    name = cache_file_name(paths)
    candidates = [beside / name] if beside is not None else []
    candidates.append(user_cache_dir() / name)
    for candidate in candidates:
        if candidate.is_file():
            try:
                return read_history(candidate)
            except (OSError, ValueError):
                continue  # a damaged cache is rebuilt below
    target = candidates[-1]
    total = sum(path.stat().st_size for path in paths.values())
    if total > ISOLATE_ABOVE and _build_in_child(paths, target):
        # on failure (unwritable cache folder, unreadable data) build here, which raises a clear error
        with contextlib.suppress(OSError, ValueError):
            return read_history(target)
    frame = build_history(paths)
    with contextlib.suppress(OSError):  # caching is an optimisation: carry on without it
        write_history(frame, target)
    return frame
