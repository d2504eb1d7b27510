"""Human labels, units and plain-language reasons for the model's features (declared in the registry).

Advisors never see raw feature names: every feature has a short label, values are shown in human units
(years, amounts with thousands separators, ratios in %), and refusals are worded as plain sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trainer.registry import REGISTRY, Unit

__all__ = ["LABELS", "FeatureLabel", "Unit", "feature_label", "format_value", "reason_sentence"]


@dataclass(frozen=True)
class FeatureLabel:
    """How one feature is shown.

    Attributes:
        label: Short human label ("Credit / income ratio").
        unit: How values are formatted.
        reason: Plain sentence used when the feature pushes a refusal; ``{value}`` is the formatted value.
    """

    label: str
    unit: Unit
    reason: str = ""


#: Feature name -> how it is shown, from the feature registry.
LABELS: dict[str, FeatureLabel] = {r.name: FeatureLabel(r.label, r.unit, r.reason) for r in REGISTRY}


def feature_label(name: str) -> FeatureLabel:
    """Return how feature ``name`` is shown; unknown names get a readable label from the name itself."""
    if name in LABELS:
        return LABELS[name]
    return FeatureLabel(name.replace("_", " ").capitalize(), "number")


def format_value(value: float | str | None, unit: Unit) -> str:
    """Format a raw feature value in human units ("34.2 years", "1,250,000", "23.5 %", "unknown")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if isinstance(value, str) or unit == "category":
        return str(value)
    if unit == "amount":
        return f"{value:,.0f}"
    if unit == "years":
        return f"{value:.1f} years"
    if unit == "pct":
        return f"{value * 100:.1f} %"
    if unit == "score":
        return f"{value:.2f}"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "flag":
        return "yes" if value >= 0.5 else "no"
    if unit in ("months", "days"):
        whole = round(value)
        return f"{whole:,} {unit[:-1] if whole == 1 else unit}"
    return f"{value:,.4g}"


def reason_sentence(name: str, value: float | str | None) -> str:
    """Plain-language reason for a feature that pushed the risk up."""
    info = feature_label(name)
    shown = format_value(value, info.unit)
    if info.reason:
        return info.reason.format(value=shown)
    return f"{info.label} ({shown}) raises the estimated risk."
