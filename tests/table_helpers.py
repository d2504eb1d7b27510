"""Tiny Home Credit tables for the data and check tests (imported by the tests, not collected)."""

from __future__ import annotations

from collections.abc import Callable

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
