"""Rows of the client screen's profile and history panels (identity-free), in human units."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from trainer.registry import BY_NAME, CATEGORY, COLUMN, HISTORY_SUMMARY, PROFILE

if TYPE_CHECKING:
    from trainer.scoring import Explanation


def _shown(name: str, value: Any) -> tuple[str, str]:
    from trainer.labels import feature_label, format_value

    info = feature_label(name)
    if isinstance(value, float) and value != value:
        value = None
    return info.label, format_value(value, info.unit)


def profile_rows(record: Mapping[str, Any], explanation: Explanation | None) -> list[tuple[str, str]]:
    """Contract, amounts, age, employment, family, housing and external scores (registry ``profile`` order).

    Application columns come from the client's record, engineered features (age, years employed)
    from the explanation; a feature missing from its source is left out.
    """
    by_feature = {c.feature: c for c in explanation.contributions} if explanation else {}
    rows: list[tuple[str, str]] = []
    for name in PROFILE:
        if BY_NAME[name].computation in (COLUMN, CATEGORY):
            if name in record:
                rows.append(_shown(name, record.get(name)))
        elif name in by_feature:
            c = by_feature[name]
            rows.append((c.label, c.display_value))
    return rows


def history_rows(history: Mapping[str, float] | None) -> list[tuple[str, str]]:
    """Bureau credits, overdue amounts, previous applications, late instalments (present ones only)."""
    if not history:
        return []
    return [_shown(name, history[name]) for name in HISTORY_SUMMARY if name in history]
