"""Finding the Home Credit tables' files in a folder, with the standard library only.

The advisor app calls these before its heavy imports (pandas, pyarrow): on a first opening it starts
aggregating the history in a child process as soon as it knows which files to read.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from trainer.registry import HISTORY_FEATURES
from trainer.schema import HISTORY_TABLES


def find_table(data_dir: Path, name: str) -> Path | None:
    """Return the file holding table ``name`` in ``data_dir``, or ``None`` when there is none.

    ``<name>.csv`` (the real Kaggle file name) wins over ``<name>.parquet``; when neither exists
    exactly, a file whose name matches ignoring case (``pos_cash_balance.csv``) is accepted.

    Args:
        data_dir: Folder to look in.
        name: Table name, e.g. ``bureau`` or ``POS_CASH_balance``.

    Returns:
        The path of the file, or ``None`` if the folder does not exist or has no such file.

    """
    if not data_dir.is_dir():
        return None
    for suffix in (".csv", ".parquet"):
        candidate = data_dir / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    by_lower = {p.name.lower(): p for p in sorted(data_dir.iterdir()) if p.is_file()}
    for suffix in (".csv", ".parquet"):
        found = by_lower.get(f"{name}{suffix}".lower())
        if found is not None:
            return found
    return None


def history_tables_used(available: Collection[str]) -> list[str]:
    """Return the history tables usable from those ``available`` (bureau_balance needs bureau)."""
    used = [name for name in HISTORY_FEATURES if name in available]
    if "bureau_balance" in used and "bureau" not in used:
        used.remove("bureau_balance")
    return used


def history_files(folder: Path, tables: Sequence[str] | None = None) -> dict[str, Path]:
    """The history tables found in ``folder`` that can be aggregated (only ``tables`` when given).

    Returns:
        Table name -> file, in the order of :func:`history_tables_used` (empty when none is usable).
    """
    paths = {name: path for name in HISTORY_TABLES if (path := find_table(folder, name)) is not None}
    if tables is not None:
        paths = {name: path for name, path in paths.items() if name in set(tables)}
    return {name: paths[name] for name in history_tables_used(paths)}
