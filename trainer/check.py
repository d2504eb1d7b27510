"""``trainer check --data DIR``: validate a Home Credit data folder and report every finding.

Unlike :mod:`trainer.data`, which stops at the first problem, :func:`check_folder` collects problems
table by table (reading one table at a time, through :mod:`trainer.data`'s reader, and dropping it
after its checks so the full-size Kaggle files fit in memory) and returns them as findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from rich.table import Table
from rich.text import Text

from trainer.data import (
    compare_columns,
    control_char_problems,
    find_table,
    parse_table,
    read_header,
    table_problems,
)
from trainer.errors import DataError
from trainer.schema import ID_COLUMNS, TABLE_NAMES, load_profile, table_spec
from trainer.text_safety import clean_text

Severity = Literal["ok", "warning", "error"]

#: What is lost when a table is absent from the folder.
LOST_WITHOUT: dict[str, str] = {
    "application_train": "nothing can be trained; run `trainer synth --out DIR` or download the Kaggle "
    "files into data/raw/",
    "application_test": "no unlabelled clients to score from this folder (pass --clients to predict)",
    "bureau": "no features from credits at other institutions, and bureau_balance cannot be linked",
    "bureau_balance": "no features from the monthly status of credits at other institutions",
    "previous_application": "no features from previous Home Credit applications, and the monthly "
    "history tables cannot be linked to them",
    "POS_CASH_balance": "no features from monthly balances of previous POS and cash loans",
    "installments_payments": "no features from repayment history (late or short payments)",
    "credit_card_balance": "no features from monthly credit card balances",
}

#: Foreign keys checked: (table, column) -> the table whose key the column refers to.
_JOINS: dict[tuple[str, str], str] = {
    ("bureau", "SK_ID_CURR"): "applications",
    ("bureau_balance", "SK_ID_BUREAU"): "bureau",
    ("previous_application", "SK_ID_CURR"): "applications",
    ("POS_CASH_balance", "SK_ID_PREV"): "previous_application",
    ("POS_CASH_balance", "SK_ID_CURR"): "applications",
    ("installments_payments", "SK_ID_PREV"): "previous_application",
    ("installments_payments", "SK_ID_CURR"): "applications",
    ("credit_card_balance", "SK_ID_PREV"): "previous_application",
    ("credit_card_balance", "SK_ID_CURR"): "applications",
}
#: Key column kept after each table is checked, for the join checks of later tables.
_PARENT_KEYS: dict[str, tuple[str, str]] = {
    "application_train": ("applications", "SK_ID_CURR"),
    "application_test": ("applications", "SK_ID_CURR"),
    "bureau": ("bureau", "SK_ID_BUREAU"),
    "previous_application": ("previous_application", "SK_ID_PREV"),
}
_MAX_LEVELS_SHOWN = 3


@dataclass(frozen=True)
class Finding:
    """One line of the check report.

    Attributes:
        table: Table name (or ``folder`` for problems with the folder itself).
        severity: ``ok``, ``warning`` (usable, but something is lost or odd) or ``error`` (unusable).
        message: One sentence saying what was found and, for problems, what to do.

    """

    table: str
    severity: Severity
    message: str


def check_folder(data_dir: Path) -> list[Finding]:
    """Validate every Home Credit table of ``data_dir`` without raising on data problems.

    Args:
        data_dir: Folder holding the CSV or parquet files.

    Returns:
        Findings in table order; any ``error`` means the folder cannot be used for training.

    """
    if not data_dir.exists():
        return [
            Finding(
                "folder",
                "error",
                f"{data_dir} does not exist; run `trainer synth --out DIR` or download the Kaggle files "
                "into data/raw/.",
            )
        ]
    if not data_dir.is_dir():
        return [Finding("folder", "error", f"{data_dir} is a file; pass the folder that holds the tables.")]
    findings: list[Finding] = []
    parents: dict[str, pd.Index] = {}
    for name in TABLE_NAMES:
        path = find_table(data_dir, name)
        if path is None:
            severity: Severity = "error" if name == "application_train" else "warning"
            findings.append(Finding(name, severity, f"{name}.csv is absent: {LOST_WITHOUT[name]}."))
            continue
        findings.extend(_check_table(path, name, parents))
    return findings


def _check_table(path: Path, name: str, parents: dict[str, pd.Index]) -> list[Finding]:
    """Check one file; record its key column in ``parents`` for the join checks of later tables."""
    found: list[Finding] = []

    def add(severity: Severity, message: str) -> None:
        found.append(Finding(name, severity, message.replace(str(path), path.name)))

    try:
        header = read_header(path)
    except DataError as exc:
        add("error", str(exc))
        return found
    columns = compare_columns(header, name)
    for col in columns.duplicated:
        add("error", f"{path.name}: column {col} appears more than once; keep one copy of each column.")
    for typo, real in columns.suggestions.items():
        add("error", f"{path.name}: column {typo} is not a Home Credit column; did you mean {real}?")
    lacking = [c for c in columns.missing if c not in columns.suggestions.values()]
    if lacking:
        listed = ", ".join(lacking[:8]) + (f" and {len(lacking) - 8} more" if len(lacking) > 8 else "")
        add("error", f"{path.name} lacks required column{'s' * (len(lacking) > 1)} {listed}.")
    extra = [c for c in columns.unknown if c not in columns.suggestions]
    if extra:
        listed = ", ".join(extra[:8]) + (f" and {len(extra) - 8} more" if len(extra) > 8 else "")
        add(
            "warning",
            f"{path.name} has column{'s' * (len(extra) > 1)} outside the schema, ignored: {listed}.",
        )
    readable = [c for c in table_spec(name).column_names if c in header]
    if not readable:
        return found
    try:
        frame = parse_table(path, name, readable, keep_control=True)
    except DataError as exc:
        add("error", str(exc))
        return found
    for problem in [*table_problems(frame, path, name), *control_char_problems(frame, path)]:
        add("error", problem)
    for message in _out_of_range(frame, name, path):
        add("warning", message)
    for message in _unknown_levels(frame, name):
        add("warning", message)
    for message in _orphans(frame, name, parents):
        add("warning", message)
    if name in _PARENT_KEYS:
        group, key = _PARENT_KEYS[name]
        if key in frame.columns:
            keys = pd.Index(frame[key].unique())
            parents[group] = parents[group].append(keys) if group in parents else keys
    if not any(f.severity == "error" for f in found):
        add("ok", f"{len(frame):,} rows, {len(frame.columns)} columns.")
    return found


def _unknown_levels(frame: pd.DataFrame, name: str) -> list[str]:
    """Warn about category values that the real Kaggle data does not have (likely misspellings)."""
    messages: list[str] = []
    spec = table_spec(name)
    for col in frame.columns:
        levels = spec.column(col).levels
        if spec.column(col).kind != "category" or not levels:
            continue
        counts = frame[col].value_counts()
        unknown = counts[(counts > 0) & ~counts.index.isin(levels)]
        if unknown.empty:
            continue
        shown = ", ".join(
            f"{value!r} ({count:,} row{'s' * (count > 1)})"
            for value, count in unknown.head(_MAX_LEVELS_SHOWN).items()
        )
        more = f" and {len(unknown) - _MAX_LEVELS_SHOWN} more" if len(unknown) > _MAX_LEVELS_SHOWN else ""
        messages.append(
            f"column {col} has level{'s' * (len(unknown) > 1)} unknown to the Home Credit data: "
            f"{shown}{more}; check the spelling."
        )
    return messages


def _out_of_range(frame: pd.DataFrame, name: str, path: Path) -> list[str]:
    """Warn about numbers far outside the range of the real column (the profile's minimum and maximum).

    "Far" is more than the column's whole real range beyond either end, so ordinary new extremes pass
    and values such as ``1e308`` or a negative amount in an always-positive column are named.
    """
    stats = load_profile()["tables"][name]["stats"]
    messages: list[str] = []
    for col in frame.columns:
        quantiles = stats.get(col, {}).get("quantiles")
        if col in ID_COLUMNS or col == "TARGET" or not quantiles:
            continue
        low, high = float(quantiles["0"]), float(quantiles["1"])
        span = max(high - low, abs(high), abs(low), 1.0)
        values = frame[col].to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            outside = (values < low - span) | (values > high + span)
            if low >= 0:
                outside |= values < 0
        if not outside.any():
            continue
        row = int(np.flatnonzero(outside)[0])
        count = int(outside.sum())
        where = f"data row {row + 1} (line {row + 2})" if path.suffix.lower() == ".csv" else f"row {row + 1}"
        messages.append(
            f"column {col} holds {values[row]:g} in {where}"
            f"{f' and {count - 1:,} other rows' if count > 1 else ''}, far outside the real range "
            f"{low:g} to {high:g}; check the value (the model has never seen such numbers)."
        )
    return messages


def _orphans(frame: pd.DataFrame, name: str, parents: dict[str, pd.Index]) -> list[str]:
    """Warn about rows whose foreign key matches no row of the table it refers to."""
    messages: list[str] = []
    for (table, col), group in _JOINS.items():
        if table != name or col not in frame.columns or group not in parents:
            continue
        orphan = int((~frame[col].isin(parents[group])).sum())
        if orphan == 0:
            continue
        share = orphan / len(frame)
        pct = f"{share:.1%}" if share >= 0.001 else "<0.1%"
        target = "application_train/application_test" if group == "applications" else group
        messages.append(
            f"{pct} of rows ({orphan:,} of {len(frame):,}) have {col} values not found in {target}; "
            "they will not join to any client."
        )
    return messages


_STYLES: dict[str, str] = {"ok": "green", "warning": "yellow", "error": "bold red"}


def render_findings(findings: list[Finding], data_dir: Path) -> Table:
    """Return the findings as a rich table titled with the folder, with a one-line summary caption."""
    table = Table(title=f"Home Credit data check: {data_dir}", show_lines=False, expand=False)
    table.add_column("Table", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Finding", overflow="fold")
    for f in findings:
        table.add_row(Text(f.table), Text(f.severity, style=_STYLES[f.severity]), Text(clean_text(f.message)))
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    verdict = "not usable for training" if errors else "usable"
    table.caption = (
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}: {verdict}"
    )
    return table
