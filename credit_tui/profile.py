"""Rows of the client screen's profile and history panels (identity-free), in human units."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from trainer.registry import HISTORY_SUMMARY

if TYPE_CHECKING:
    from trainer.scoring import Explanation

PROFILE_RAW = (
    "NAME_CONTRACT_TYPE",
    "AMT_INCOME_TOTAL",
    "AMT_CREDIT",
    "AMT_ANNUITY",
    "AMT_GOODS_PRICE",
)
PROFILE_FEATURES = ("AGE_YEARS", "EMPLOYED_YEARS")
PROFILE_MORE = (
    "NAME_INCOME_TYPE",
    "OCCUPATION_TYPE",
    "NAME_EDUCATION_TYPE",
    "NAME_FAMILY_STATUS",
    "CNT_CHILDREN",
    "NAME_HOUSING_TYPE",
    "EXT_SOURCE_1",
    "EXT_SOURCE_2",
    "EXT_SOURCE_3",
)


def _shown(name: str, value: Any) -> tuple[str, str]:
    from trainer.labels import feature_label, format_value

    info = feature_label(name)
    if isinstance(value, float) and value != value:
        value = None
    return info.label, format_value(value, info.unit)


def profile_rows(record: Mapping[str, Any], explanation: Explanation | None) -> list[tuple[str, str]]:
    """Contract, amounts, age, employment, family, housing and external scores."""
    rows = [_shown(name, record.get(name)) for name in PROFILE_RAW if name in record]
    by_feature = {c.feature: c for c in explanation.contributions} if explanation else {}
    for name in PROFILE_FEATURES:
        if name in by_feature:
            c = by_feature[name]
            rows.append((c.label, c.display_value))
    rows.extend(_shown(name, record.get(name)) for name in PROFILE_MORE if name in record)
    return rows


def history_rows(history: Mapping[str, float] | None) -> list[tuple[str, str]]:
    """Bureau credits, overdue amounts, previous applications, late instalments (present ones only)."""
    if not history:
        return []
    return [_shown(name, history[name]) for name in HISTORY_SUMMARY if name in history]
