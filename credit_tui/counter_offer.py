"""Terms decided on a what-if: the loan asked for, the loan granted, and every edited field.

A decision taken while a what-if is active records the edited values themselves beside the client's
own, not only a hash of the row. When the advisor accepts on terms other than those asked for (credit,
monthly repayment, goods price), the decision is an **ACCEPT on modified terms**: a counter-offer. The
decisions list and the client screen flag it, the CSV export carries the terms, and the letter states the
amount, term and monthly repayment granted.

UI-free: :func:`credit_tui.decision_flow.record_decision` builds the :class:`Terms`, the audit log stores
their canonical JSON, the letter and the screens read them back with :meth:`Terms.from_json`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credit_tui.whatif_fields import as_number
from trainer.decision import Decision
from trainer.plain import ProductTerms

#: The loan's own fields: raw column -> key in :attr:`Terms.asked` / :attr:`Terms.granted`.
LOAN_FIELDS: dict[str, str] = {
    "AMT_CREDIT": "credit",
    "AMT_ANNUITY": "annuity",
    "AMT_GOODS_PRICE": "goods_price",
}


def _loan(values: Mapping[str, Any], product: ProductTerms) -> dict[str, float | None]:
    loan = {key: as_number(values.get(name)) for name, key in LOAN_FIELDS.items()}
    term = product.term_months(loan["credit"], loan["annuity"])
    loan["term_months"] = None if term is None else round(term, 2)
    return loan


@dataclass(frozen=True)
class Terms:
    """The loan asked for and the loan decided on.

    Attributes:
        asked: credit, annuity (monthly), goods_price and term_months of the client's application.
        granted: The same after the what-if edits.
        edited: Every edited field: raw column -> (client's value, value decided on).
        basis: How the term was computed ("before interest" or the product rate).
        currency: Currency of the amounts.
    """

    asked: dict[str, float | None]
    granted: dict[str, float | None]
    edited: dict[str, tuple[float | None, float | None]]
    basis: str
    currency: str

    @classmethod
    def from_whatif(
        cls, row: Mapping[str, Any], edited: Mapping[str, tuple[Any, Any]], product: ProductTerms
    ) -> Terms:
        """Build the terms from the row decided on and the what-if edits (name -> (original, new))."""
        original = {**row, **{name: old for name, (old, _new) in edited.items()}}
        return cls(
            asked=_loan(original, product),
            granted=_loan(row, product),
            edited={name: (as_number(old), as_number(new)) for name, (old, new) in sorted(edited.items())},
            basis=product.basis,
            currency=product.currency,
        )

    @property
    def modified_loan(self) -> bool:
        """True when credit, monthly repayment or goods price differ from the application."""
        return any(self.asked.get(key) != self.granted.get(key) for key in LOAN_FIELDS.values())

    def to_json(self) -> str:
        """Canonical JSON for the audit log (sorted keys, no spaces)."""
        body = {
            "asked": self.asked,
            "granted": self.granted,
            "edited": {name: list(pair) for name, pair in self.edited.items()},
            "basis": self.basis,
            "currency": self.currency,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Terms | None:
        """Read terms back from the audit log; None for "" or anything that is not well-formed terms."""
        if not text:
            return None
        try:
            data = json.loads(text)
            keys = (*LOAN_FIELDS.values(), "term_months")
            asked = {key: as_number(data["asked"].get(key)) for key in keys}
            granted = {key: as_number(data["granted"].get(key)) for key in keys}
            edited = {
                str(name): (as_number(pair[0]), as_number(pair[1]))
                for name, pair in dict(data["edited"]).items()
            }
            return cls(asked, granted, edited, str(data["basis"])[:60], str(data["currency"])[:8])
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            return None


def counter_offer(final_decision: str, terms_json: str) -> Terms | None:
    """The terms of an ACCEPT on modified terms, or None when the decision is not a counter-offer."""
    if final_decision != Decision.ACCEPT:
        return None
    terms = Terms.from_json(terms_json)
    return terms if terms is not None and terms.modified_loan else None


def granted_sentence(terms: Terms) -> str:
    """The loan granted in one sentence, for the letter ("a credit of 250,000 EUR, repaid in ...")."""
    product = ProductTerms(terms.currency)
    credit = product.amount(terms.granted.get("credit"))
    annuity = product.amount(terms.granted.get("annuity"))
    months = terms.granted.get("term_months")
    term = "an unknown number of" if months is None else f"{months:.0f}"
    asked = product.amount(terms.asked.get("credit"))
    return (
        f"We can grant a credit of {credit} (you asked for {asked}), repaid in {term} monthly repayments "
        f"of {annuity} ({terms.basis})."
    )
