"""The raw application fields an advisor may negotiate or correct in the what-if form, and their parsing.

UI-free: the form widget shows these fields and calls :func:`parse_field`; the client screen rescoring goes
through :meth:`trainer.scoring.Scorer.what_if`, the same feature code as training.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from trainer.plain import as_number as as_number

#: What-if fields that are not application columns (levers a client can act on); each is turned into
#: application values before scoring, and recorded as edited when a decision is taken:
#: a co-borrower's yearly income (added to the declared income), a down payment (credit = goods price -
#: down payment) and a term in monthly repayments (monthly repayment = credit / term, before interest).
CO_BORROWER: Final = "CO_BORROWER_INCOME"
DOWN_PAYMENT: Final = "DOWN_PAYMENT"
TERM: Final = "TERM_MONTHS"
LEVERS: Final = (CO_BORROWER, DOWN_PAYMENT, TERM)


@dataclass(frozen=True)
class WhatIfField:
    """One editable field.

    Attributes:
        name: Raw column of the application table.
        label: What the advisor reads.
        integer: Whole numbers only.
        minimum: Smallest value accepted.
        maximum: Largest value accepted.
    """

    name: str
    label: str
    integer: bool
    minimum: float
    maximum: float


WHATIF_FIELDS: Final[tuple[WhatIfField, ...]] = (
    WhatIfField("AMT_CREDIT", "Credit amount", False, 1.0, 1e9),
    WhatIfField("AMT_ANNUITY", "Monthly repayment", False, 1.0, 1e8),
    WhatIfField("AMT_GOODS_PRICE", "Goods price", False, 1.0, 1e9),
    WhatIfField(DOWN_PAYMENT, "Down payment", False, 0.0, 1e9),
    WhatIfField(TERM, "Term (months)", True, 1.0, 600.0),
    WhatIfField("AMT_INCOME_TOTAL", "Income/year (proved)", False, 1.0, 1e9),
    WhatIfField(CO_BORROWER, "Co-borrower inc./year", False, 0.0, 1e9),
    WhatIfField("CNT_FAM_MEMBERS", "Family members", True, 1.0, 20.0),
    WhatIfField("CNT_CHILDREN", "Children", True, 0.0, 19.0),
)
FIELDS_BY_NAME: Final[dict[str, WhatIfField]] = {f.name: f for f in WHATIF_FIELDS}

_THOUSANDS: Final = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def format_number(value: Any) -> str:
    """A raw value as the form shows it: "" when missing, no decimals for whole numbers."""
    number = as_number(value)
    if number is None:
        return ""
    return str(int(number)) if number.is_integer() else f"{number:.2f}"


def format_amount(value: Any) -> str:
    """A value for reading: thousands separated, "unknown" when missing."""
    number = as_number(value)
    if number is None:
        return "unknown"
    return f"{number:,.0f}" if number.is_integer() or abs(number) >= 1000 else f"{number:,.2f}"


def parse_field(field: WhatIfField, text: str, original: Any = None) -> float | None:
    """Parse what the advisor typed into a field.

    Spaces, underscores and thousands commas (``450,000``) are accepted. An empty field keeps a missing
    original value missing.

    Args:
        field: The field.
        text: What was typed.
        original: The client's own value (an empty field is only accepted when it is missing).

    Returns:
        The number, or None for an empty field whose original is missing.

    Raises:
        ValueError: With one sentence saying what is expected.
    """
    cleaned = text.strip().replace(" ", "").replace("_", "").replace("\u202f", "").replace("\u00a0", "")
    if not cleaned:
        if as_number(original) is None:
            return None
        raise ValueError(f"Type a number (the client's value is {format_amount(original)}).")
    if "," in cleaned:
        if not _THOUSANDS.match(cleaned):
            raise ValueError("Use a dot for decimals, e.g. 1234.50.")
        cleaned = cleaned.replace(",", "")
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number.") from None
    if not math.isfinite(number):
        raise ValueError(f"{text.strip()!r} is not a number.")
    if field.integer and not number.is_integer():
        raise ValueError("Type a whole number.")
    if not field.minimum <= number <= field.maximum:
        low = f"{field.minimum:,.0f}"
        high = f"{field.maximum:,.0f}"
        raise ValueError(f"Type a number from {low} to {high}.")
    return number


def changed_values(
    record: Mapping[str, Any], values: Mapping[str, float | None]
) -> dict[str, tuple[Any, float | None]]:
    """Fields whose value differs from the client's own: name -> (original, new).

    The levers (:data:`LEVERS`) become application values, and both edits are listed: a co-borrower's
    income is added to the declared income; a down payment sets the credit to the goods price minus it;
    a term sets the monthly repayment to credit / term (before interest, as the model's term feature).
    """
    values = apply_levers(record, values)
    changed: dict[str, tuple[Any, float | None]] = {}
    for name, new in values.items():
        if name in LEVERS and not new:
            continue
        original = record.get(name)
        old = as_number(original)
        if old is None and new is None:
            continue
        if old is not None and new is not None and math.isclose(old, new, rel_tol=0.0, abs_tol=1e-9):
            continue
        changed[name] = (original, new)
    return changed


def apply_levers(record: Mapping[str, Any], values: Mapping[str, float | None]) -> dict[str, float | None]:
    """The form's values with the levers turned into application values (see :func:`changed_values`)."""
    out = dict(values)

    def current(name: str) -> float | None:
        return out[name] if name in out else as_number(record.get(name))

    if out.get(CO_BORROWER):
        out["AMT_INCOME_TOTAL"] = (current("AMT_INCOME_TOTAL") or 0.0) + float(out[CO_BORROWER] or 0.0)
    goods = current("AMT_GOODS_PRICE")
    down = out.get(DOWN_PAYMENT)
    if down and goods is not None and down < goods:
        out["AMT_CREDIT"] = goods - down
    credit = current("AMT_CREDIT")
    term = out.get(TERM)
    if term and credit is not None:
        out["AMT_ANNUITY"] = round(credit / term, 2)
    return out
