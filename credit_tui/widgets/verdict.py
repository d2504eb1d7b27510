"""The client screen's fixed verdict header: who, what the model decided, how far from the threshold.

It never scrolls: the advisor always sees the client ID, the decision badge (in words, never colour
alone), the PD in words and figures against the threshold, and a second identifier (contract type and
credit amount) that tells them it is the right file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from credit_tui.client_text import verdict_text
from credit_tui.record_view import final_label
from credit_tui.render import plain
from trainer.decision import Decision
from trainer.plain import format_pd

if TYPE_CHECKING:
    from credit_tui.audit import DecisionRecord
    from trainer.scoring import Explanation

#: The badge's text for each decision: a symbol and the word, so colour is never the only cue.
BADGES: dict[str, str] = {
    Decision.ACCEPT: "✓ ACCEPT",
    Decision.REVIEW: "? REVIEW",
    Decision.REFUSE: "✗ REFUSE",
}


def identity_text(record: Mapping[str, Any] | None) -> Text:
    """The second identifier: contract type, credit amount and term (data values as plain text)."""
    if record is None:
        return Text("")
    from credit_tui.whatif_fields import as_number

    parts: list[str] = []
    contract = record.get("NAME_CONTRACT_TYPE")
    if contract is not None and str(contract) not in ("", "nan", "<NA>"):
        parts.append(str(contract))
    credit, annuity = as_number(record.get("AMT_CREDIT")), as_number(record.get("AMT_ANNUITY"))
    if credit is not None:
        parts.append(f"credit {credit:,.0f}")
    if credit is not None and annuity:
        parts.append(f"term {credit / annuity:.0f} months")
    income = as_number(record.get("AMT_INCOME_TOTAL"))
    if income is not None:
        parts.append(f"income {income:,.0f} a year")
    return plain(" · ".join(parts), style="dim")


def decision_line(record: DecisionRecord | None, recording: bool = True) -> Text:
    """The client's latest recorded decision in one line (time UTC, advisor, decision, override)."""
    if not recording:
        return Text("Decisions are not recorded: no audit database is open.", style="dim")
    if record is None:
        return Text("No decision recorded yet · a accept · r refuse", style="dim")
    text = Text()
    text.append(f"Last decision #{record.id}: ", style="dim")
    text.append(final_label(record), style="bold")
    if record.override:
        text.append(f" (override of {record.model_decision})", style="bold")
    elif record.model_decision == Decision.REVIEW:
        text.append(" (review case)")
    text.append(" · ")
    text.append(plain(record.advisor, style="dim"))
    text.append(f" · {record.time[:16].replace('T', ' ')} UTC", style="dim")
    if record.corrects is not None:
        text.append(f" · corrects #{record.corrects}", style="dim")
    return text


class DecisionBadge(Static):
    """The model's decision as a word in a coloured box (``-accept``, ``-review``, ``-refuse``)."""

    DEFAULT_CSS = """
    DecisionBadge { width: auto; margin-right: 2; text-style: bold; background: $panel; }
    DecisionBadge.-accept { background: $success; color: auto 95%; }
    DecisionBadge.-review { background: $warning; color: auto 95%; }
    DecisionBadge.-refuse { background: $error; color: auto 95%; }
    """

    def show(self, decision: str | None) -> None:
        """Show a decision (None: not scored)."""
        self.update(f" {BADGES.get(decision, decision)} " if decision else " … ")
        for name in BADGES:
            self.set_class(decision == name, f"-{name.lower()}")


class VerdictHeader(Vertical):
    """Three fixed lines: ID + badge + PD; contract and amounts; the latest recorded decision."""

    DEFAULT_CSS = """
    VerdictHeader { height: auto; padding: 0 1; }
    VerdictHeader > #verdict-row { height: auto; }
    VerdictHeader #client-title { width: auto; margin-right: 2; text-style: bold; }
    VerdictHeader #distance { width: 1fr; height: auto; }
    VerdictHeader #identity, VerdictHeader #decision-line, VerdictHeader #whatif-marker { height: 1; }
    VerdictHeader #whatif-marker { display: none; }
    VerdictHeader.-whatif #whatif-marker { display: block; }
    """

    def compose(self) -> ComposeResult:
        """Title row, identity line, decision line, what-if marker."""
        with Horizontal(id="verdict-row"):
            yield Static("", id="client-title")
            yield DecisionBadge(" … ", id="badge")
            yield Static("", id="distance")
        yield Static("", id="identity")
        yield Static("", id="decision-line")
        yield Static("", id="whatif-marker")

    def show(
        self,
        client_id: int,
        explanation: Explanation | None,
        band: tuple[float, float] | None,
        record: Mapping[str, Any] | None,
    ) -> None:
        """Fill the title row and the identity line (``explanation`` None: the client could not be scored)."""
        self.query_one("#client-title", Static).update(Text(f"Client {client_id}"))
        self.query_one(DecisionBadge).show(explanation.decision if explanation is not None else None)
        distance = verdict_text(explanation, band) if explanation is not None else "Not scored."
        self.query_one("#distance", Static).update(Text(distance))
        self.query_one("#identity", Static).update(identity_text(record))

    def show_latest(self, record: DecisionRecord | None, recording: bool) -> None:
        """Fill the decision line."""
        self.query_one("#decision-line", Static).update(decision_line(record, recording))

    def show_whatif(self, original: Explanation | None, whatif: Explanation | None, active: bool) -> None:
        """Say that a what-if is active and what it gives (decisions then record the edited values)."""
        self.set_class(active, "-whatif")
        if not active:
            return
        text = Text("What-if active: ", style="bold")
        if original is not None and whatif is not None:
            text.append(
                f"PD {format_pd(original.pd)} → {format_pd(whatif.pd)}, {BADGES.get(whatif.decision)}"
            )
        else:
            text.append("edited values being rescored")
        text.append(" · a/r decide on these values · ctrl+r resets", style="dim")
        self.query_one("#whatif-marker", Static).update(text)
