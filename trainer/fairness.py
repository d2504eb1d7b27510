"""Fairness of the decisions: approval rate and default rate among the accepted, by gender and by age band.

Gender is not a model input (:mod:`trainer.policy`), but the data still holds it, so the outcome for each
group is measured from the data. A client is *approved* when the model accepts it at the threshold
(PD < threshold; a REVIEW-band client counts as approved when below the threshold). For each group:

- the approval rate (approved / clients);
- the default rate among the approved (defaults / approved), when labels are known;
- the ratio of its approval rate to the highest approval rate of its dimension; below 0.8 the group
  fails the four-fifths rule of thumb (US EEOC Uniform Guidelines), a flag for review, not a verdict.

``trainer fit`` stores the table (on its validation clients) in the manifest, the model card shows it,
and ``trainer report`` recomputes it on its evaluation clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: Age bands of the fairness table (years, left-closed).
AGE_EDGES: tuple[float, ...] = (0, 30, 40, 50, 60, 200)
AGE_BANDS: tuple[str, ...] = ("<30", "30-39", "40-49", "50-59", "60+")
GENDER_LEVELS: dict[str, str] = {"F": "Women", "M": "Men"}
#: The four-fifths rule: a group's approval rate below this share of the best group's is flagged.
FOUR_FIFTHS = 0.8


def fairness_groups(applications: pd.DataFrame) -> dict[str, pd.Series]:
    """Group labels per client: ``Gender`` (Women / Men; other codes missing) and ``Age band``.

    Args:
        applications: Raw application rows with ``CODE_GENDER`` and ``DAYS_BIRTH``.
    """
    gender = applications["CODE_GENDER"].astype("string").map(GENDER_LEVELS)
    age = -applications["DAYS_BIRTH"].to_numpy(dtype=np.float64) / 365.25
    band = pd.cut(pd.Series(age), list(AGE_EDGES), right=False, labels=list(AGE_BANDS))
    return {
        "Gender": pd.Series(gender.to_numpy(dtype=object), dtype="string"),
        "Age band": band.astype("string"),
    }


def fairness_table(
    groups: Mapping[str, pd.Series], approved: np.ndarray[Any, Any], y: np.ndarray[Any, Any] | None
) -> pd.DataFrame:
    """Approval and default rates per group, with the approval-rate ratio to the best group.

    Args:
        groups: Dimension -> group label per client (missing labels are left out).
        approved: True where the model accepts the client.
        y: Outcome per client (1 = default), or None when unknown.

    Returns:
        One row per (dimension, group): ``dimension``, ``group``, ``clients``, ``approved``,
        ``approval_rate``, ``default_rate_approved`` (NaN without labels or approvals),
        ``approval_ratio`` (to the highest approval rate of the dimension) and ``four_fifths``
        (True when the ratio is at least 0.8).
    """
    approved = np.asarray(approved, dtype=bool)
    rows: list[dict[str, Any]] = []
    for dimension, labels in groups.items():
        values = np.array([None if pd.isna(v) else str(v) for v in labels], dtype=object)
        order = AGE_BANDS if dimension == "Age band" else tuple(sorted({v for v in values if v is not None}))
        part: list[dict[str, Any]] = []
        for group in order:
            mask = values == group
            n = int(mask.sum())
            if n == 0:
                continue
            n_ok = int(approved[mask].sum())
            default_rate = float("nan")
            if y is not None and n_ok:
                default_rate = float(np.asarray(y)[mask & approved].mean())
            part.append(
                {
                    "dimension": dimension,
                    "group": str(group),
                    "clients": n,
                    "approved": n_ok,
                    "approval_rate": n_ok / n,
                    "default_rate_approved": default_rate,
                }
            )
        best = max((row["approval_rate"] for row in part), default=0.0)
        for row in part:
            row["approval_ratio"] = row["approval_rate"] / best if best > 0 else float("nan")
            row["four_fifths"] = bool(row["approval_ratio"] >= FOUR_FIFTHS) if best > 0 else False
        rows.extend(part)
    columns = [
        "dimension",
        "group",
        "clients",
        "approved",
        "approval_rate",
        "default_rate_approved",
        "approval_ratio",
        "four_fifths",
    ]
    return pd.DataFrame(rows, columns=columns)


def approval_ratio(table: pd.DataFrame, group: str, reference: str, dimension: str = "Gender") -> float:
    """Approval rate of ``group`` divided by that of ``reference`` (e.g. Women / Men)."""
    part = table[table["dimension"] == dimension].set_index("group")["approval_rate"]
    if group not in part.index or reference not in part.index or part[reference] == 0:
        return float("nan")
    return float(part[group] / part[reference])


def table_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The table as JSON-ready rows for the manifest (NaN becomes None; rates rounded to 6 digits)."""
    records = []
    for row in table.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, float | np.floating):
                clean[str(key)] = None if np.isnan(value) else round(float(value), 6)
            elif isinstance(value, np.bool_ | bool):
                clean[str(key)] = bool(value)
            elif isinstance(value, np.integer):
                clean[str(key)] = int(value)
            else:
                clean[str(key)] = value
        records.append(clean)
    return records
