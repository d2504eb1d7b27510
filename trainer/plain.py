"""Plain numbers: one rounding rule for PDs and thresholds, the PD in words, amounts and terms in true units.

Every screen, letter, report and CLI output formats PDs through these functions, so the model card, the
client screen and the letter show the same figures:

- A PD is shown in percent with one decimal ("11.2 %"); the threshold, the review band edges and any PD
  within 0.1 percentage point of one of them get two decimals ("9.14 %"), so a PD just below the
  threshold never reads as equal to it.
- A distance to the threshold in percentage points follows the same rule and never reads "0.0 pts":
  below 0.01 pt it is "less than 0.01 pts".
- The PD in words counts clients ("About 11 in 100 clients with a profile like this did not repay; the
  bank refuses from 9 in 100"), on the smallest scale (100, 1,000, 10,000) where the PD and the threshold
  do not round to the same number.

Amounts: ``AMT_ANNUITY`` is the loan's monthly repayment in the Home Credit data, so credit / annuity is
the number of monthly repayments. The data holds no interest rate: with a product rate of 0 (the
default) that number is the term "before interest"; with a yearly rate r the term solves the annuity
formula ``annuity = credit * i / (1 - (1 + i) ** -n)`` with ``i = r / 12``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Currency of amounts unless the product settings say otherwise (the Home Credit data names none).
DEFAULT_CURRENCY = "EUR"
#: Within this distance of the threshold or a band edge (0.1 percentage point), show two decimals.
NEAR: float = 0.001


def as_number(value: Any) -> float | None:
    """A raw value as a finite float, or None when missing or not a number."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _near(value: float, marks: Sequence[float]) -> bool:
    return any(abs(value - mark) < NEAR for mark in marks)


def format_threshold(value: float) -> str:
    """A threshold or band edge in percent, always with two decimals ("9.14 %")."""
    return f"{value * 100:.2f} %"


def format_pd(pd_: float, marks: Sequence[float] = ()) -> str:
    """A PD in percent: one decimal, two within 0.1 pt of a mark (the threshold or a band edge).

    Args:
        pd_: Probability of default in [0, 1].
        marks: The threshold and the review band edges.
    """
    if not math.isfinite(pd_):
        return "unknown"
    decimals = 2 if _near(pd_, marks) else 1
    return f"{pd_ * 100:.{decimals}f} %"


def format_points(delta: float, *, signed: bool = False) -> str:
    """A difference of PDs in percentage points: one decimal, two below 0.1 pt, never "0.0".

    Args:
        delta: Difference of two probabilities (0.012 is 1.2 points).
        signed: Prefix "+" for positive values.
    """
    points = abs(delta) * 100
    if points < 0.005:
        text = "less than 0.01"
    elif points < 0.1:
        text = f"{points:.2f}"
    else:
        text = f"{points:.1f}"
    sign = "-" if delta < 0 and signed else ("+" if signed and delta > 0 else "")
    if text.startswith("less"):
        sign = ""
    return f"{sign}{text} pts"


def distance_to_threshold(pd_: float, threshold: float) -> str:
    """Where the PD stands against the threshold ("2.3 pts below the threshold")."""
    if pd_ == threshold:
        return "exactly at the threshold"
    side = "below" if pd_ < threshold else "above"
    return f"{format_points(pd_ - threshold)} {side} the threshold"


def _in_n(value: float, scale: int) -> int:
    return math.floor(value * scale + 0.5)


def pd_in_words(pd_: float, threshold: float) -> str:
    """The PD and the threshold as counts of clients, in one sentence.

    "About 11 in 100 clients with a profile like this did not repay; the bank refuses from 9 in 100."
    The scale grows (100, 1,000, 10,000) until the PD and the threshold round to different counts, so a
    client just below the threshold is never told the same number as the threshold.
    """
    scale = 100
    while scale < 10_000 and _in_n(pd_, scale) == _in_n(threshold, scale):
        scale *= 10
    count, limit = _in_n(pd_, scale), _in_n(threshold, scale)
    scale_text = f"{scale:,}"
    if count == 0:
        head = f"Fewer than 1 in {scale_text} clients with a profile like this did not repay"
    else:
        head = f"About {count:,} in {scale_text} clients with a profile like this did not repay"
    return f"{head}; the bank refuses from {limit:,} in {scale_text}."


@dataclass(frozen=True)
class ProductTerms:
    """Product settings that turn credit and repayment into a term.

    Attributes:
        currency: Currency code shown with every amount ("EUR").
        interest_rate: Yearly nominal rate of the product (0.0: terms are shown "before interest").
    """

    currency: str = DEFAULT_CURRENCY
    interest_rate: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.interest_rate) and 0.0 <= self.interest_rate < 1.0):
            raise ValueError(f"interest_rate must be in [0, 1), not {self.interest_rate!r}")

    @property
    def basis(self) -> str:
        """How terms are computed, for display ("before interest" or "at 12.0 % a year")."""
        if self.interest_rate == 0:
            return "before interest"
        return f"at {self.interest_rate * 100:.1f} % a year"

    def amount(self, value: float | None) -> str:
        """An amount with thousands separators and the currency ("312,000 EUR")."""
        if value is None or not math.isfinite(value):
            return "unknown"
        return f"{value:,.0f} {self.currency}".rstrip()

    def term_months(self, credit: float | None, annuity: float | None) -> float | None:
        """The number of monthly repayments of ``annuity`` that repay ``credit`` (None when undefined)."""
        if credit is None or annuity is None or not (credit > 0 and annuity > 0):
            return None
        if not (math.isfinite(credit) and math.isfinite(annuity)):
            return None
        if self.interest_rate == 0:
            return credit / annuity
        i = self.interest_rate / 12
        owed = 1 - i * credit / annuity
        if owed <= 0:
            return None  # the repayment does not even cover the interest
        return -math.log(owed) / math.log(1 + i)

    def repayment(self, credit: float, months: float) -> float:
        """The monthly repayment that repays ``credit`` in ``months`` at the product rate."""
        if self.interest_rate == 0:
            return credit / months
        i = self.interest_rate / 12
        return float(credit * i / (1 - (1 + i) ** -months))

    def term_text(self, credit: float | None, annuity: float | None) -> str:
        """The term in words ("24 monthly repayments, before interest")."""
        months = self.term_months(credit, annuity)
        if months is None:
            return "unknown term"
        return f"{months:.0f} monthly repayments ({self.basis})"
