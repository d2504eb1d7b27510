"""The Home Credit tables: file names, columns in their real order, kinds, keys and category levels.

The column lists and category levels come from statistics of the real Kaggle files shipped with the
package (``resources/home_credit_profile.json``: no rows, only column order, kinds and frequencies).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from trainer.config import PROFILE_PATH

ColumnKind = Literal["int", "float", "category"]

#: Every table of the data set, in the order the Kaggle page lists them.
TABLE_NAMES: tuple[str, ...] = (
    "application_train",
    "application_test",
    "bureau",
    "bureau_balance",
    "previous_application",
    "POS_CASH_balance",
    "installments_payments",
    "credit_card_balance",
)
#: History tables: optional inputs of the features.
HISTORY_TABLES: tuple[str, ...] = TABLE_NAMES[2:]

#: Columns that identify a row (unique) per table; bureau_balance and the monthly tables have none.
PRIMARY_KEYS: dict[str, str] = {
    "application_train": "SK_ID_CURR",
    "application_test": "SK_ID_CURR",
    "bureau": "SK_ID_BUREAU",
    "previous_application": "SK_ID_PREV",
}
#: Identifier columns (always whole numbers, never missing).
ID_COLUMNS: frozenset[str] = frozenset({"SK_ID_CURR", "SK_ID_BUREAU", "SK_ID_PREV"})

#: Levels that exist in the full Kaggle files but are too rare to appear in the profiled sample.
EXTRA_LEVELS: dict[str, tuple[str, ...]] = {
    "CODE_GENDER": ("XNA",),
    "NAME_INCOME_TYPE": ("Student", "Maternity leave"),
    "NAME_FAMILY_STATUS": ("Unknown",),
    "NAME_HOUSING_TYPE": (),
}


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a Home Credit table.

    Attributes:
        name: Column name exactly as in the Kaggle CSV.
        kind: ``int`` (whole numbers, possibly missing), ``float`` or ``category``.
        csv_dtype: The dtype pandas infers from the real CSV (``int64``, ``float64`` or ``str``).
        levels: Known category levels (most frequent first); empty for numeric columns.
    """

    name: str
    kind: ColumnKind
    csv_dtype: str
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """One Home Credit table.

    Attributes:
        name: Table name, also the CSV file stem (``bureau`` -> ``bureau.csv``).
        columns: Columns in the real file's order.
        key: Column whose values are unique per row, if any.
    """

    name: str
    columns: tuple[ColumnSpec, ...]
    key: str | None

    @property
    def column_names(self) -> list[str]:
        """Column names in file order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        """Return the spec of column ``name``.

        Raises:
            KeyError: If the table has no such column.
        """
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


@cache
def load_profile() -> dict[str, Any]:
    """Return the packaged statistics of the real Home Credit tables (parsed once)."""
    with PROFILE_PATH.open(encoding="utf-8") as fh:
        profile: dict[str, Any] = json.load(fh)
    return profile


@cache
def table_spec(name: str) -> TableSpec:
    """Return the spec of table ``name``.

    Raises:
        KeyError: If ``name`` is not a Home Credit table.
    """
    if name not in TABLE_NAMES:
        raise KeyError(name)
    table = load_profile()["tables"][name]
    columns = []
    for col in table["columns"]:
        stats = table["stats"][col]
        kind: ColumnKind = stats["kind"]
        levels: tuple[str, ...] = ()
        if kind == "category":
            levels = tuple(stats.get("levels", {})) + EXTRA_LEVELS.get(col, ())
        columns.append(ColumnSpec(col, kind, stats["csv_dtype"], levels))
    return TableSpec(name, tuple(columns), PRIMARY_KEYS.get(name))


def read_dtypes(name: str) -> dict[str, str]:
    """Return the dtypes to pass to ``pandas.read_csv`` for table ``name``.

    Identifiers are ``int64``; every other number is read as ``float64`` (the real files have missing
    values in many whole-number columns); categories are read as strings and categorised afterwards.
    """
    dtypes: dict[str, str] = {}
    for col in table_spec(name).columns:
        if col.name in ID_COLUMNS:
            dtypes[col.name] = "int64"
        elif col.kind == "category":
            dtypes[col.name] = "str"
        else:
            dtypes[col.name] = "float64"
    return dtypes
