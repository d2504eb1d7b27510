"""The reason policy: which features a model may use and which may be told to a client.

Two questions, answered from the feature registry:

- :func:`is_protected`: the feature is a protected attribute (gender, family status). It is not a model
  input unless ``trainer fit --allow-protected NAME`` asks for it, and such a bundle is marked "not for
  client decisions".
- :func:`is_client_facing`: the feature may appear in a reason given to a client. Building statistics,
  the weekday and hour the application was entered, document flags and the client's age (and ratios that
  reveal it) may inform the model but are never a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

#: Interim answers until the feature registry lands (issue 8); then read from the registry records.
_PROTECTED: frozenset[str] = frozenset({"CODE_GENDER", "NAME_FAMILY_STATUS"})
_NOT_CLIENT_FACING_EXACT: frozenset[str] = frozenset(
    {
        "CNT_CHILDREN",
        "CNT_FAM_MEMBERS",
        "REGION_POPULATION_RELATIVE",
        "REGION_RATING_CLIENT",
        "REGION_RATING_CLIENT_W_CITY",
        "FLAG_EMP_PHONE",
        "FLAG_WORK_PHONE",
        "FLAG_PHONE",
        "FLAG_EMAIL",
        "HOUR_APPR_PROCESS_START",
        "WEEKDAY_APPR_PROCESS_START",
        "REG_REGION_NOT_LIVE_REGION",
        "REG_REGION_NOT_WORK_REGION",
        "LIVE_REGION_NOT_WORK_REGION",
        "REG_CITY_NOT_LIVE_CITY",
        "REG_CITY_NOT_WORK_CITY",
        "LIVE_CITY_NOT_WORK_CITY",
        "TOTALAREA_MODE",
        "OBS_30_CNT_SOCIAL_CIRCLE",
        "DEF_30_CNT_SOCIAL_CIRCLE",
        "OBS_60_CNT_SOCIAL_CIRCLE",
        "DEF_60_CNT_SOCIAL_CIRCLE",
        "AGE_YEARS",
        "REGISTRATION_YEARS",
        "ID_PUBLISH_YEARS",
        "PHONE_CHANGE_YEARS",
        "EMPLOYED_AGE_RATIO",
        "DOCUMENT_COUNT",
        "NAME_TYPE_SUITE",
        "FONDKAPREMONT_MODE",
        "HOUSETYPE_MODE",
        "WALLSMATERIAL_MODE",
        "EMERGENCYSTATE_MODE",
    }
)


def is_protected(name: str) -> bool:
    """True when ``name`` is a protected attribute (never a model input by default)."""
    return name in _PROTECTED


def is_client_facing(name: str) -> bool:
    """True when ``name`` may be given to a client as a reason (protected features never are)."""
    if is_protected(name) or name in _NOT_CLIENT_FACING_EXACT:
        return False
    return not (name.endswith("_AVG") or name.startswith("FLAG_DOCUMENT_"))


def protected_features(names: Iterable[str]) -> list[str]:
    """The protected features among ``names``, in order."""
    return [name for name in names if is_protected(name)]


def input_policy(names: Sequence[str] | Any) -> dict[str, Any]:
    """The manifest's ``input_policy`` entry for a model with these inputs (a FeatureSpec or names).

    Returns:
        ``protected_inputs`` (the protected features the model uses, normally none),
        ``protected_excluded`` (those left out) and ``client_decisions`` (False when any protected
        feature is an input: such a bundle is for analysis only).
    """
    inputs = list(getattr(names, "names", names))
    used = protected_features(inputs)
    return {
        "protected_inputs": used,
        "protected_excluded": sorted(_PROTECTED - set(used)),
        "client_decisions": not used,
    }
