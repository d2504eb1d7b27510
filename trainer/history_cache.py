"""A cache of aggregated history features, so a portfolio opens fast and small after the first time.

Aggregating the real history tables (27 M bureau_balance rows, 13 M instalments) takes tens of seconds
and a few GB. The result is small (one row of ~45 floats per client), so it is cached as an Arrow IPC
file (LZ4-compressed: written and read back several times faster than parquet, ~40 MB for 356k clients):

- the cache lives only in the user's cache folder (never beside the data, where anyone who can drop a
  file next to a clients file could plant one);
- its key is a SHA-256 of the feature code version, the tables used and each file's *content* (large
  files are hashed once per size/modification time/inode and the digest remembered in the cache
  folder), so any change of the data, or of the feature code, gives another key;
- the key, the feature code version and the tables are stored in the file and checked on read with the
  columns and the index; a cache that does not match is rebuilt, with a notice, and one that cannot be
  written is simply skipped;
- large builds run in a separate process, so the memory they need is returned to the system before
  the caller (the advisor app) goes on. That process hashes the files while DuckDB aggregates them
  (the first time a portfolio is opened its files' digests are not known yet), at a lower CPU priority
  than the caller, which meanwhile shows the clients. The app starts it before its own heavy imports
  (:func:`start_cold_build`; this module imports pandas and pyarrow only when it reads or writes a
  cache), and hands it to :func:`load_history_features` later.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from trainer.atomic import atomic_path, write_text_atomic
from trainer.registry import FEATURES_VERSION

if TYPE_CHECKING:
    import pandas as pd

#: Files up to this total size are keyed by content; larger ones by size and modification time.
CONTENT_HASH_LIMIT = 64 * 1024 * 1024
#: Above this total size the aggregation runs in a child process.
ISOLATE_ABOVE = 256 * 1024 * 1024
#: How much lower the child's CPU priority is (POSIX ``nice``): the caller's screen comes first.
CHILD_NICENESS = 5
CACHE_PREFIX = "history_features."
CACHE_SUFFIX = ".arrow"


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


def _read_memo(folder: Path) -> dict[str, str]:
    memo: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads((folder / _MEMO_FILE).read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            memo = {str(k): str(v) for k, v in loaded.items()}
    return memo


def _memo_stamp(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ino}"


def content_hash(path: Path, folder: Path | None = None) -> str:
    """SHA-256 of a file's content; for large files remembered per (path, size, mtime, inode).

    Args:
        path: The file.
        folder: The cache folder holding the remembered digests (default :func:`user_cache_dir`).
    """
    if path.stat().st_size <= CONTENT_HASH_LIMIT:
        return _file_sha256(path)
    folder = user_cache_dir() if folder is None else folder
    stamp = _memo_stamp(path)
    known = _read_memo(folder).get(stamp)
    if known is not None:
        return known
    digest = _file_sha256(path)
    memo = _read_memo(folder)  # read again: another process may have added digests meanwhile
    memo[stamp] = digest
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / _MEMO_FILE, json.dumps(memo))
    return digest


def cache_key(paths: Mapping[str, Path], folder: Path | None = None) -> str:
    """A key that changes whenever the feature code, the tables used or any of their files' content do.

    Args:
        paths: History table name -> file.
        folder: The cache folder (default :func:`user_cache_dir`), where large files' digests are kept.
    """
    digest = hashlib.sha256(f"features-v{FEATURES_VERSION}".encode())
    for name in sorted(paths):
        digest.update(f"\0{name}\0{content_hash(paths[name], folder)}".encode())
    return digest.hexdigest()[:24]


def known_cache_key(paths: Mapping[str, Path], folder: Path | None = None) -> str | None:
    """:func:`cache_key` when every large file's digest is already known, else None (nothing hashed).

    A portfolio opened for the first time has no digests yet, and so no cache: its build can start at
    once (and hash the files meanwhile) instead of waiting for the hashes.
    """
    folder = user_cache_dir() if folder is None else folder
    return cache_key(paths, folder) if _digests_known(paths, folder) else None


def _digests_known(paths: Mapping[str, Path], folder: Path) -> bool:
    memo = _read_memo(folder)
    return all(
        path.stat().st_size <= CONTENT_HASH_LIMIT or _memo_stamp(path) in memo for path in paths.values()
    )


def cache_file_name(paths: Mapping[str, Path], folder: Path | None = None) -> str:
    """File name of the cache for these tables."""
    return _file_name(cache_key(paths, folder))


def _file_name(key: str) -> str:
    return f"{CACHE_PREFIX}{key}{CACHE_SUFFIX}"


def build_history(paths: Mapping[str, Path]) -> pd.DataFrame:
    """Aggregate the history tables at ``paths`` (every client they mention) on DuckDB."""
    from trainer.history_sql import aggregate_sources

    return aggregate_sources(paths)


def _stamp(key: str, tables: list[str]) -> bytes:
    return json.dumps({"key": key, "features_version": FEATURES_VERSION, "tables": tables}).encode()


def read_history(path: Path, paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """Read a cached history frame, freeing each Arrow column as soon as it is converted.

    Columns without missing values are read without a copy, as read-only arrays: copy the frame before
    changing it in place (:func:`trainer.features.align_history` makes the copy a portfolio keeps).

    With ``paths``, the file is verified first: the key, feature code version and tables stored in it
    must be those of ``paths``, its columns those the feature code makes and its index unique client
    IDs; otherwise ``ValueError`` (the caller rebuilds).
    """
    import pandas as pd
    import pyarrow.feather as feather

    from trainer.features import history_feature_names

    table = feather.read_table(path, memory_map=False)
    table.validate(full=True)  # a damaged or crafted file is refused here, before any value is used
    if paths is not None:
        tables = sorted(paths)
        stored = (table.schema.metadata or {}).get(_META_KEY)
        if stored != _stamp(cache_key(paths, path.parent), tables):
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


def write_history(
    frame: pd.DataFrame, target: Path, paths: Mapping[str, Path] | None = None, key: str | None = None
) -> None:
    """Write a history frame atomically (temporary file in the same folder, then rename).

    With ``paths``, the key of those tables (``key``, or :func:`cache_key` of them) is stored in the
    file for :func:`read_history` to verify.
    """
    import pyarrow as pa
    import pyarrow.feather as feather

    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        table = pa.Table.from_pandas(frame, preserve_index=True)
        if paths is not None:
            stamp = _stamp(key or cache_key(paths, target.parent), sorted(paths))
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: stamp})
        feather.write_feather(table, str(tmp), compression="lz4")


def build_and_write(paths: Mapping[str, Path], folder: Path) -> str:
    """Aggregate ``paths`` while hashing their files, write the verified cache into ``folder``; its key.

    The digests (hashlib and file reads release the GIL) are computed in a thread beside DuckDB's
    aggregation, so a first opening costs the aggregation alone.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="credit-tui-hash") as pool:
        key_future = pool.submit(cache_key, paths, folder)
        frame = build_history(paths)
        key = key_future.result()
    write_history(frame, folder / _file_name(key), paths, key)
    return key


def _child_main(spec: str) -> None:
    """Entry point of the child process started by :func:`_build_in_child` (``spec``: JSON).

    Writes the cache file into the given folder and the cache key on stdout.
    """
    if hasattr(os, "nice"):  # POSIX: the advisor's screen first; the build takes what is left
        with contextlib.suppress(OSError):
            os.nice(CHILD_NICENESS)
    args = json.loads(spec)
    paths = {name: Path(path) for name, path in args["paths"].items()}
    sys.stdout.write(build_and_write(paths, Path(args["folder"])))


@dataclass(frozen=True)
class ChildBuild:
    """A cache build running in a child process (see :func:`start_cold_build`).

    Attributes:
        paths: The history files it aggregates.
        folder: The cache folder it writes into.
        process: The child process; it prints the cache key when done.
    """

    paths: dict[str, Path]
    folder: Path
    process: subprocess.Popen[bytes]

    def wait(self) -> Path | None:
        """Wait for the child; the cache file it wrote, or None when it failed."""
        out, _ = self.process.communicate()
        key = out.decode("ascii", errors="replace").strip()
        if self.process.returncode != 0 or not key.isalnum():
            return None
        target = self.folder / _file_name(key)
        return target if target.is_file() else None


def _start_child(paths: Mapping[str, Path], folder: Path) -> ChildBuild | None:
    """Start building and writing the cache in a fresh Python process (None when it cannot start).

    A plain subprocess rather than ``multiprocessing``: its spawn start needs ``sys.stderr.fileno()``
    (for the resource tracker), which fails inside a running Textual app ("bad value(s) in
    fds_to_keep"), where the advisor app loads a portfolio. The child's output is kept off the terminal.
    ``-P``: the current folder is not put on the child's import path, so a ``trainer`` folder in the
    folder the app was started from is never imported.
    """
    spec = json.dumps({"paths": {name: str(path) for name, path in paths.items()}, "folder": str(folder)})
    code = "import sys; from trainer.history_cache import _child_main; _child_main(sys.argv[1])"
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    try:
        process = subprocess.Popen(
            [sys.executable, "-P", "-c", code, spec],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    except OSError:
        return None
    return ChildBuild(dict(paths), folder, process)


def _build_in_child(paths: Mapping[str, Path], folder: Path) -> Path | None:
    """Build and write the cache in a fresh Python process; the file written, or None when that failed."""
    child = _start_child(paths, folder)
    return child.wait() if child is not None else None


def start_cold_build(paths: Mapping[str, Path]) -> ChildBuild | None:
    """Start a large first build in a child process now, before the caller's heavy imports.

    Only when no cache can exist yet (a large file was never hashed) and the files are large enough
    for :func:`load_history_features` to build in a child anyway: the same work, started earlier. Pass
    the result to :func:`load_history_features`. Imports nothing heavy.

    Returns:
        The running build, or None when there is nothing to start (the cache may exist, the files are
        small, or the process could not start): :func:`load_history_features` then does as usual.
    """
    if not paths:
        return None
    folder = user_cache_dir()
    try:
        if _digests_known(paths, folder) or sum(p.stat().st_size for p in paths.values()) <= ISOLATE_ABOVE:
            return None
    except OSError:
        return None
    return _start_child(paths, folder)


def load_history_features(
    paths: Mapping[str, Path],
    notice: Callable[[str], None] | None = None,
    started: ChildBuild | None = None,
) -> pd.DataFrame:
    """Return the aggregated history of ``paths``, from the user's cache when a verified one matches.

    Args:
        paths: History table name -> file, for the tables to aggregate.
        notice: Told, in one sentence, when a cache file was found damaged or not matching and is rebuilt.
        started: A build of these files already running (:func:`start_cold_build`): its result is used.

    Raises:
        DataError: When a history file cannot be read (one clear sentence).
    """
    folder = user_cache_dir()
    if started is not None and started.paths == dict(paths):
        built = started.wait()
        if built is not None:
            with contextlib.suppress(OSError, ValueError):
                return read_history(built, paths)
        return _build_here(paths, folder)  # the child failed: this raises the clear error, or caches
    key = known_cache_key(paths, folder)  # None: a file never hashed, so no cache can exist for it yet
    target = folder / _file_name(key) if key is not None else None
    if target is not None and target.is_file():
        try:
            return read_history(target, paths)
        except (OSError, ValueError) as exc:  # pyarrow's errors are ValueErrors (ArrowInvalid)
            if notice is not None:
                notice(
                    f"The history cache {target} could not be used ({str(exc).splitlines()[0][:120]}); "
                    "it is being rebuilt from the history tables."
                )
    total = sum(path.stat().st_size for path in paths.values())
    if total > ISOLATE_ABOVE:
        built = _build_in_child(paths, folder)
        # on failure (unwritable cache folder, unreadable data) build here, which raises a clear error
        if built is not None:
            with contextlib.suppress(OSError, ValueError):
                return read_history(built, paths)
    return _build_here(paths, folder)


def _build_here(paths: Mapping[str, Path], folder: Path) -> pd.DataFrame:
    """Aggregate in this process and cache the result when the folder can be written."""
    frame = build_history(paths)
    with contextlib.suppress(OSError):  # caching is an optimisation: carry on without it
        write_history(frame, folder / cache_file_name(paths, folder), paths)
    return frame
