"""Approvals (team mode, four-eyes): a supervisor approves or rejects the decisions waiting for them.

Self-contained: the app pushes :class:`ApprovalsScreen` with the team log; the screen reads the pending
decisions and records reviews in thread workers. The server decides who may review (role
``credit_supervisor``, never the decision's own advisor); its refusal is shown as one sentence.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Label, Static

from credit_tui.widgets.app_header import AppFooter, app_header, essential_bindings

if TYPE_CHECKING:
    from credit_tui.audit import DecisionRecord

COLUMNS = ("#", "Time (UTC)", "Client", "Advisor", "Model", "PD", "Decided", "Why pending", "Justification")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _plain(value: object) -> Text:
    """A cell from data: control characters removed, never parsed as markup."""
    return Text(_CONTROL.sub("", str(value)))


def pending_cells(record: DecisionRecord) -> tuple[Text, ...]:
    """One table row for a pending decision."""
    why = "override" if record.override else "PD above the four-eyes level"
    short = record.justification[:50] + ("…" if len(record.justification) > 50 else "")
    return tuple(
        _plain(v)
        for v in (
            record.id,
            record.time[:19].replace("T", " "),
            record.client_id,
            record.advisor,
            record.model_decision,
            f"{record.pd:.1%}",
            record.final_decision,
            why,
            short,
        )
    )


class ReviewDialog(ModalScreen["str | None"]):
    """Ask the supervisor's justification for approving or rejecting one decision."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, record: DecisionRecord, verdict: str) -> None:
        super().__init__(id="review-dialog")
        self.record = record
        self.verdict = verdict

    def compose(self) -> ComposeResult:
        """Title, what is reviewed, justification."""
        word = "Approve" if self.verdict == "APPROVED" else "Reject"
        with Vertical(id="review-box"):
            yield Label(Text(f"{word} decision #{self.record.id}"), id="review-title")
            yield Static(
                _plain(
                    f"Client {self.record.client_id}: {self.record.advisor} decided "
                    f"{self.record.final_decision} (model: {self.record.model_decision}, "
                    f"PD {self.record.pd:.1%}). Justification: {self.record.justification or '—'}"
                )
            )
            yield Input(placeholder="Your justification (at least 3 words), Enter to record", id="review-why")
            yield Static("", id="review-error")

    def on_mount(self) -> None:
        """Focus the justification."""
        self.query_one("#review-why", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Return the justification (the server checks it)."""
        event.stop()
        text = event.value.strip()
        if len([w for w in text.split() if any(ch.isalnum() for ch in w)]) < 3:
            self.query_one("#review-error", Static).update(Text("Write at least 3 words of justification."))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        """Close without reviewing."""
        self.dismiss(None)


class ApprovalsScreen(Screen[None]):
    """The decisions waiting for a supervisor: ``y`` approves, ``n`` rejects, ``r`` reloads."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *essential_bindings(),  # first, so the footer shows Help, Decisions and Quit at any width
        Binding("escape,backspace", "back", "Back"),
        Binding("y", "review('APPROVED')", "Approve"),
        Binding("n", "review('REJECTED')", "Reject"),
        Binding("r", "reload", "Reload"),
    ]

    class Loaded(Message):
        """The worker read the pending decisions."""

        def __init__(self, records: list[DecisionRecord]) -> None:
            self.records = records
            super().__init__()

    class Reviewed(Message):
        """The worker recorded a review (error is None) or the server refused it."""

        def __init__(self, text: str, error: bool) -> None:
            self.text = text
            self.error = error
            super().__init__()

    def __init__(self, store: Any) -> None:
        super().__init__(id="approvals-screen")
        self.store = store
        self.records: list[DecisionRecord] = []
        self.loaded = False

    @property
    def table(self) -> DataTable[Text]:
        """The pending decisions."""
        return self.query_one("#approvals-table", DataTable)

    def compose(self) -> ComposeResult:
        """Count line, table, footer."""
        yield app_header()
        yield Static("Loading…", id="approvals-count")
        yield DataTable(id="approvals-table", cursor_type="row", zebra_stripes=True)
        yield AppFooter(compact=True)

    def on_mount(self) -> None:
        """Columns, then the first load."""
        self.table.add_columns(*COLUMNS)
        self.table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        """Read the pending decisions again."""
        self.loaded = False
        self._load()

    @work(thread=True, exclusive=True, group="approvals", exit_on_error=False)
    def _load(self) -> None:
        from trainer.errors import UserError

        try:
            records = self.store.pending()
        except UserError as error:
            self.post_message(self.Reviewed(str(error), True))
            return
        self.post_message(self.Loaded(records))

    def on_approvals_screen_loaded(self, message: Loaded) -> None:
        """Fill the table, oldest first (first come, first reviewed)."""
        self.records = message.records
        table = self.table
        table.clear()
        for record in self.records:
            table.add_row(*pending_cells(record), key=str(record.id))
        total = len(self.records)
        text = f"{total} decision{'s' if total != 1 else ''} waiting for approval"
        if total:
            text += " · y approve · n reject (with a justification)"
        self.query_one("#approvals-count", Static).update(Text(text))
        self.loaded = True

    def _highlighted(self) -> DecisionRecord | None:
        if not self.records:
            return None
        row = self.table.cursor_row
        return self.records[row] if 0 <= row < len(self.records) else None

    def action_review(self, verdict: str) -> None:
        """Ask for a justification, then record the review in a worker."""
        record = self._highlighted()
        if record is None:
            self.notify("No decision is waiting for approval.", severity="information")
            return

        def reviewed(justification: str | None) -> None:
            if justification:
                self._review(record.id, verdict, justification)

        self.app.push_screen(ReviewDialog(record, verdict), reviewed)

    @work(thread=True, exclusive=True, group="review", exit_on_error=False)
    def _review(self, decision_id: int, verdict: str, justification: str) -> None:
        from trainer.errors import UserError

        try:
            review = self.store.review(decision_id, verdict, justification)
        except UserError as error:
            self.post_message(self.Reviewed(f"Nothing was recorded. {error}", True))
            return
        self.post_message(
            self.Reviewed(f"Decision #{decision_id} {review.verdict.lower()} by {review.approver}.", False)
        )

    def on_approvals_screen_reviewed(self, message: Reviewed) -> None:
        """Say what happened and reload the list."""
        self.notify(
            _plain(message.text).plain,
            severity="error" if message.error else "information",
            markup=False,
            timeout=8,
        )
        if not message.error:
            self.action_reload()

    def action_back(self) -> None:
        """Close the screen."""
        self.dismiss(None)
