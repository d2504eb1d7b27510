"""How a recorded decision is described on screen: counter-offer, superseded, other model, full detail.

UI-free text builders shared by the client screen's decision line and the decisions screen. Every value
from the audit log goes into a :class:`rich.text.Text` as plain text, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.text import Text

from credit_tui.audit import OVERRIDE_CODES
from credit_tui.counter_offer import LOAN_FIELDS, Terms, counter_offer
from trainer.plain import ProductTerms, format_pd
from trainer.text_safety import clean_text

if TYPE_CHECKING:
    from credit_tui.audit import DecisionRecord


def latest_ids(records: Iterable[DecisionRecord]) -> dict[int, int]:
    """Client id -> id of its newest record (a newer record supersedes the older ones)."""
    latest: dict[int, int] = {}
    for record in records:
        latest[record.client_id] = max(record.id, latest.get(record.client_id, 0))
    return latest


def status_flags(record: DecisionRecord, latest: dict[int, int], model_id: str | None) -> list[str]:
    """Short flags: ``counter-offer``, ``superseded by #n``, ``other model``."""
    flags = []
    if counter_offer(record.final_decision, record.terms) is not None:
        flags.append("counter-offer")
    newest = latest.get(record.client_id, record.id)
    if newest > record.id:
        flags.append(f"superseded by #{newest}")
    if model_id is not None and record.bundle_id != model_id:
        flags.append("other model")
    return flags


def final_label(record: DecisionRecord) -> str:
    """The final decision, "ACCEPT (modified terms)" for a counter-offer."""
    if counter_offer(record.final_decision, record.terms) is not None:
        return "ACCEPT (modified terms)"
    return record.final_decision


def terms_text(terms: Terms) -> str:
    """Asked -> granted for the loan fields, plus the other edited fields."""
    product = ProductTerms(terms.currency)
    parts = []
    for key in (*LOAN_FIELDS.values(), "term_months"):
        asked, granted = terms.asked.get(key), terms.granted.get(key)
        if asked == granted:
            continue
        shown = (
            (f"{asked:.0f}" if asked is not None else "?", f"{granted:.0f}" if granted is not None else "?")
            if key == "term_months"
            else (product.amount(asked), product.amount(granted))
        )
        parts.append(f"{key.replace('_', ' ')} {shown[0]} → {shown[1]}")
    loan_columns = set(LOAN_FIELDS)
    for name, (old, new) in terms.edited.items():
        if name not in loan_columns:
            parts.append(f"{name} {old if old is not None else '?'} → {new if new is not None else '?'}")
    return "; ".join(parts) + f" (terms {terms.basis})"


def record_detail(record: DecisionRecord, latest: dict[int, int], model_id: str | None) -> Text:
    """Everything about one record: decision, PD, code, full justification, terms, reasons, status."""
    text = Text()
    text.append(f"#{record.id} ", style="bold")
    text.append(f"client {record.client_id} · {final_label(record)} · model said {record.model_decision} ")
    text.append(f"(PD {format_pd(record.pd, [record.threshold])}) · {clean_text(record.advisor)}")
    flags = status_flags(record, latest, model_id)
    if flags:
        text.append(" · " + ", ".join(flags), style="bold")
    if record.override_code:
        code = OVERRIDE_CODES.get(record.override_code, clean_text(record.override_code))
        text.append(f"\nReason code: {code}")
    if record.justification:
        text.append("\nJustification: ")
        text.append(clean_text(record.justification))
    terms = Terms.from_json(record.terms)
    if terms is not None:
        text.append("\nDecided on: " + terms_text(terms))
    if record.reasons:
        text.append("\nReasons given: " + clean_text(" | ".join(record.reasons)), style="dim")
    return text
