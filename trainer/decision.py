"""The decision vocabulary and the rule that turns a PD into a decision.

One :class:`Decision` enum serves scoring, the audit log (its SQL ``CHECK`` is built from it), the
client list, letters and the CLIs. Only numpy is imported, so the advisor app can use it early.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np


class Decision(StrEnum):
    """What the model says about a client (and what an advisor records)."""

    ACCEPT = "ACCEPT"
    REFUSE = "REFUSE"
    REVIEW = "REVIEW"


#: Decisions an advisor can record (REVIEW is the model's "ask a human", never a final answer).
FINAL_DECISIONS: tuple[Decision, ...] = (Decision.ACCEPT, Decision.REFUSE)
#: Decisions the model can give.
MODEL_DECISIONS: tuple[Decision, ...] = (Decision.ACCEPT, Decision.REFUSE, Decision.REVIEW)


def sql_in_check(column: str, decisions: Sequence[Decision]) -> str:
    """SQL ``CHECK`` clause allowing exactly ``decisions`` in ``column`` (``col IN ('A', 'B')``)."""
    values = ", ".join(f"'{d.value}'" for d in decisions)
    return f"CHECK ({column} IN ({values}))"


@dataclass(frozen=True)
class ThresholdPolicy:
    """Turns a PD into a decision: REFUSE when PD >= threshold, REVIEW inside the band.

    Attributes:
        threshold: Refuse when PD >= threshold.
        review_band: PDs in [low, high) need an advisor's review (None: no band).
    """

    threshold: float
    review_band: tuple[float, float] | None = None

    def decide(self, pd_: float) -> Decision:
        """Turn one PD into ACCEPT, REVIEW or REFUSE."""
        band = self.review_band
        if band is not None and band[0] <= pd_ < band[1]:
            return Decision.REVIEW
        return Decision.REFUSE if pd_ >= self.threshold else Decision.ACCEPT

    def decide_many(self, pds: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.object_]]:
        """Vectorised :meth:`decide`: an object array of the decisions' values (plain ``str``)."""
        decisions = np.where(pds >= self.threshold, Decision.REFUSE.value, Decision.ACCEPT.value).astype(
            object
        )
        band = self.review_band
        if band is not None:
            decisions[(pds >= band[0]) & (pds < band[1])] = Decision.REVIEW.value
        return decisions
