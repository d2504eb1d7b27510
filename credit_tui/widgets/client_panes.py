"""Small panes of the client screen: the reasons list and the client's recorded decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from trainer.decision import Decision

if TYPE_CHECKING:
    from credit_tui.audit import DecisionRecord


class ReasonList(Static):
    """Up to four plain-language reasons for a REFUSE or REVIEW (the scorer's list, shown as given)."""

    DEFAULT_CSS = """
    ReasonList { height: auto; }
    """

    def show(self, decision: str, reasons: list[str]) -> None:
        """Show the reasons (an accepted client has none)."""
        if decision == Decision.ACCEPT:
            self.update(Text("Accepted: the PD is below the threshold.", style="dim"))
            return
        text = Text()
        for i, reason in enumerate(reasons):
            text.append(f"{'' if i == 0 else chr(10)}• ")
            text.append(Text(reason))
        self.update(text or Text("No single feature stands out.", style="dim"))


def record_text(record: DecisionRecord) -> Text:
    """One recorded decision: number, time, final decision, override, advisor, justification."""
    text = Text()
    text.append(f"#{record.id} {record.time[:16].replace('T', ' ')} UTC  ", style="dim")
    text.append(record.final_decision, style="bold")
    if record.override:
        text.append(f" (override of the model's {record.model_decision})", style="bold")
    else:
        text.append(f" (model: {record.model_decision})")
    text.append(f" · PD {record.pd:.1%} · ")
    text.append(Text(record.advisor))
    if record.corrects is not None:
        text.append(f" · corrects #{record.corrects}", style="dim")
    if record.justification:
        text.append("\n    ")
        text.append(Text(record.justification, style="italic"))
    return text


class ClientDecisions(Static):
    """Every decision recorded for the client, newest first."""

    DEFAULT_CSS = """
    ClientDecisions { height: auto; }
    """

    def show(self, records: list[DecisionRecord], recording: bool) -> None:
        """Show the records (oldest first as given; drawn newest first)."""
        if not recording:
            self.update(Text("Decisions are not recorded: no audit database is open.", style="dim"))
            return
        if not records:
            self.update(Text("No decision recorded yet · a accept · r refuse", style="dim"))
            return
        text = Text("\n").join(record_text(r) for r in reversed(records))
        text.append(
            "\n\nl writes the letter of the latest decision · h lists everyone's decisions", style="dim"
        )
        self.update(text)
