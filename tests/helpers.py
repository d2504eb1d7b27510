"""Helpers shared by several test modules (imported by them, not collected): tiny tables, command lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from trainer.schema import ColumnSpec, table_spec


def tiny_table(name: str, n: int, value: Callable[[ColumnSpec, int], object]) -> pd.DataFrame:
    """Table ``name`` with every schema column and ``n`` rows: keys join across tables, TARGET alternates.

    Args:
        name: Home Credit table name.
        n: Rows (one per client).
        value: The value of any other column at row ``i``, given its spec.
    """
    cols: dict[str, list[object]] = {}
    for spec in table_spec(name).columns:
        c = spec.name
        if c == "SK_ID_CURR":
            base = 200001 if name == "application_test" else 100001
            cols[c] = [base + i for i in range(n)]
        elif c == "SK_ID_BUREAU":
            cols[c] = [500001 + i for i in range(n)]
        elif c == "SK_ID_PREV":
            cols[c] = [900001 + i for i in range(n)]
        elif c == "TARGET":
            cols[c] = [i % 2 for i in range(n)]
        else:
            cols[c] = [value(spec, i) for i in range(n)]
    return pd.DataFrame(cols)


def compare_args(data: Path, out: Path, sample: int, tracking_uri: str, *more: str) -> list[str]:
    """``trainer compare`` on a stratified sample, 2 folds and 1 thread: quick enough for a test."""
    return [
        "compare",
        "--data",
        str(data),
        *more,
        "--folds",
        "2",
        "--sample",
        str(sample),
        "--threads",
        "1",
        "--out",
        str(out),
        "--tracking-uri",
        tracking_uri,
    ]
