"""A cache of aggregated history features, so a portfolio opens fast and small after the first time.

Aggregating the real history tables (27 M bureau_balance rows, 13 M instalments) takes tens of seconds
and a few GB. The result is small (one row of ~45 floats per client), so it is cached as parquet:

- the cache lives only in the user's cache folder (never beside the data, where anyone who can drop a
  file next to a clients file could plant one);
- its key is a SHA-256 of the feature code version, the tables used and each file's *content* (large
  files are hashed once per size/modification time/inode and the digest remembered in the cache
  folder), so any change of the data, or of the feature code, gives another key;
- the key, the feature code version and the tables are stored in the file and checked on read with the
  columns and the index; a cache that does not match is rebuilt, with a notice, and one that cannot be
  written is simply skipped;
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
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import platformdirs
import pyarrow.parquet as pq

from trainer.atomic import atomic_path, write_text_atomic
from trainer.features import FEATURES_VERSION, history_feature_names
from trainer.history_sql import aggregate_sources

#: Files up to this total size are keyed by content; larger ones by size and modification time.
CONTENT_HASH_LIMIT = 64 * 1024 * 1024
#: Above this total size the aggregation runs in a child process.
ISOLATE_ABOVE = 256 * 1024 * 1024
CACHE_PREFIX = "history_features."


def user_cache_dir() -> Path:
    """The per-user folder holding cached history features."""
    return Path(platformdirs.user_cache_dir("credit-tui")) / "history"


_MEMO_FILE = "content_hashes.json"
_META_KEY = b"credit_tui_history_cache"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def content_hash(path: Path) -> str:
    """SHA-256 of a file's content; for large files remembered per (path, size, mtime, inode)."""
    stat = path.stat()
    if stat.st_size <= CONTENT_HASH_LIMIT:
        return _file_sha256(path)
    memo_path = user_cache_dir() / _MEMO_FILE
    stamp = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ino}"
    memo: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads(memo_path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            memo = {str(k): str(v) for k, v in loaded.items()}
    if stamp in memo:
        return memo[stamp]
    memo[stamp] = _file_sha256(path)
    with contextlib.suppress(OSError):
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(memo_path, json.dumps(memo))
    return memo[stamp]


def cache_key(paths: Mapping[str, Path]) -> str:
    """A key that changes whenever the feature code, the tables used or any of their files' content do."""
    digest = hashlib.sha256(f"features-v{FEATURES_VERSION}".encode())
    for name in sorted(paths):
        digest.update(f"\0{name}\0{content_hash(paths[name])}".encode())
    return digest.hexdigest()[:24]


def cache_file_name(paths: Mapping[str, Path]) -> str:
    """File name of the cache for these tables."""
    return f"{CACHE_PREFIX}{cache_key(paths)}.parquet"


def build_history(paths: Mapping[str, Path]) -> pd.DataFrame:
    """Aggregate the history tables at ``paths`` (every client they mention) on DuckDB."""
    return aggregate_sources(paths)


def _stamp(key: str, tables: list[str]) -> bytes:
    return json.dumps({"key": key, "features_version": FEATURES_VERSION, "tables": tables}).encode()


def read_history(path: Path, paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """Read a cached history frame, freeing each Arrow column as soon as it is converted.

    With ``paths``, the file is verified first: the key, feature code version and tables stored in it
    must be those of ``paths``, its columns those the feature code makes and its index unique client
    IDs; otherwise ``ValueError`` (the caller rebuilds).
    """
    table = pq.read_table(path)
    if paths is not None:
        tables = sorted(paths)
        stored = (table.schema.metadata or {}).get(_META_KEY)
        if stored != _stamp(cache_key(paths), tables):
            raise ValueError("the cache was not built from these tables by this feature code")
    frame: pd.DataFrame = table.to_pandas(self_destruct=True, split_blocks=True)
    if paths is not None:
        expected = history_feature_names(sorted(paths))
        if list(frame.columns) != list(expected):
            raise ValueError("the cache's columns are not those of the feature code")
        if frame.index.dtype != "int64" or not frame.index.is_unique:
            raise ValueError("the cache's index is not unique client IDs")
        if not all(pd.api.types.is_float_dtype(dtype) for dtype in frame.dtypes):
            raise ValueError("the cache holds non-numeric features")
    return frame


def write_history(frame: pd.DataFrame, target: Path, paths: Mapping[str, Path] | None = None) -> None:
    """Write a history frame atomically (temporary file in the same folder, then rename).

    With ``paths``, the key of those tables is stored in the file for :func:`read_history` to verify.
    """
    import pyarrow as pa

    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        table = pa.Table.from_pandas(frame, preserve_index=True)
        if paths is not None:
            metadata = {**(table.schema.metadata or {}), _META_KEY: _stamp(cache_key(paths), sorted(paths))}
            table = table.replace_schema_metadata(metadata)
        pq.write_table(table, tmp)


def _build_and_write(paths: dict[str, Path], target: Path) -> None:
    write_history(build_history(paths), target, paths)


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


def load_history_features(
    paths: Mapping[str, Path], notice: Callable[[str], None] | None = None
) -> pd.DataFrame:
    """Return the aggregated history of ``paths``, from the user's cache when a verified one matches.

    Args:
        paths: History table name -> file, for the tables to aggregate.
        notice: Told, in one sentence, when a cache file was found damaged or not matching and is rebuilt.

    Raises:
        DataError: When a history file cannot be read (one clear sentence).
    """
    target = user_cache_dir() / cache_file_name(paths)
    if target.is_file():
        try:
            return read_history(target, paths)
        except (OSError, ValueError) as exc:  # pyarrow's errors are ValueErrors (ArrowInvalid)
            if notice is not None:
                notice(
                    f"The history cache {target} could not be used ({str(exc).splitlines()[0][:120]}); "
                    "it is being rebuilt from the history tables."
                )
    total = sum(path.stat().st_size for path in paths.values())
    if total > ISOLATE_ABOVE and _build_in_child(paths, target):
        # on failure (unwritable cache folder, unreadable data) build here, which raises a clear error
        with contextlib.suppress(OSError, ValueError):
            return read_history(target, paths)
    frame = build_history(paths)
    with contextlib.suppress(OSError):  # caching is an optimisation: carry on without it
        write_history(frame, target, paths)
    return frame
