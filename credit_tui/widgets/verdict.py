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

from credit_tui.render import plain
from trainer.decision import Decision

if TYPE_CHECKING:
    from credit_tui.audit import DecisionRecord
    from trainer.scoring import Explanation

#: The badge's text for each decision: a symbol and the word, so colour is never the only cue.
BADGES: dict[str, str] = {
    Decision.ACCEPT: "✓ ACCEPT",
    Decision.REVIEW: "? REVIEW",
    Decision.REFUSE: "✗ REFUSE",
}


def pd_in_words(pd_: float) -> str:
    """A PD as odds an advisor can say aloud ("1 in 4")."""
    if pd_ <= 0:
        return "no expected default"
    if pd_ >= 0.5:
        return f"{round(pd_ * 10)} in 10"
    return f"1 in {max(2, round(1 / pd_))}"


def verdict_text(explanation: Explanation, band: tuple[float, float] | None) -> str:
    """PD in figures and words, and its distance to the threshold in PD points."""
    gap = (explanation.pd - explanation.threshold) * 100
    side = "above" if gap >= 0 else "below"
    where = f"{abs(gap):.1f} pts {side} the {explanation.threshold:.1%} threshold"
    if explanation.decision == Decision.REVIEW and band is not None:
        where += f", in the review band {band[0]:.1%}–{band[1]:.1%}"
    return f"PD {explanation.pd:.1%} ({pd_in_words(explanation.pd)}) · {where}"


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
    text.append(record.final_decision, style="bold")
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
            text.append(f"PD {original.pd:.1%} → {whatif.pd:.1%}, {BADGES.get(whatif.decision)}")
        else:
            text.append("edited values being rescored")
        text.append(" · a/r decide on these values · ctrl+r resets", style="dim")
        self.query_one("#whatif-marker", Static).update(text)
