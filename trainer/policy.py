"""The reason policy: which features a model may use and which may be told to a client.

Two questions, answered from the feature registry (:mod:`trainer.registry`, one record per feature):

- :func:`is_protected`: the feature is a protected attribute (gender, family status). It is not a model
  input unless ``trainer fit --allow-protected NAME`` asks for it, and such a bundle is marked "not for
  client decisions".
- :func:`is_client_facing`: the feature may appear in a reason given to a client. Building statistics,
  the weekday and hour the application was entered, document flags, the education level and the
  client's age (and ratios that reveal it) may inform the model but are never a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from trainer.registry import CLIENT_FACING, PROTECTED


def is_protected(name: str) -> bool:
    """True when the registry marks ``name`` protected (never a model input by default)."""
    return name in PROTECTED


def is_client_facing(name: str) -> bool:
    """True when the registry lets ``name`` be a reason to a client (unknown names never are)."""
    return name in CLIENT_FACING and not is_protected(name)


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
        "protected_excluded": sorted(PROTECTED - set(used)),
        "client_decisions": not used,
    }
