"""The dialog that records an advisor's decision: model vs chosen decision, justification, commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static
from textual.worker import Worker

from credit_tui.audit import MIN_JUSTIFICATION_WORDS, OVERRIDE_CODES, AuditRetryableError, justification_words
from credit_tui.whatif_fields import FIELDS_BY_NAME, format_amount
from trainer.plain import format_pd

if TYPE_CHECKING:
    from credit_tui.app import CreditApp
    from credit_tui.audit import DecisionRecord
    from credit_tui.decision_flow import DecisionDraft

Recorder = Callable[[str, str], "DecisionRecord"]
"""Records the draft with a justification and a reason code (blocking); raises ``UserError`` when nothing
was recorded."""


def draft_summary(draft: DecisionDraft) -> Text:
    """Model decision vs chosen decision, and what the record will say about what-if and corrections."""
    text = Text()
    text.append("Model: ", style="dim")
    text.append(f"{draft.model_decision}", style="bold")
    text.append(f" (PD {format_pd(draft.pd)})")
    text.append("   →   Your decision: ", style="dim")
    text.append(draft.final_decision, style="bold")
    if draft.override:
        text.append(f"\nThis overrides the model's {draft.model_decision}.", style="bold")
    elif draft.model_decision == "REVIEW":
        text.append("\nThe model left this client for review: you decide.", style="bold")
    if draft.whatif:
        text.append("\nDecided on what-if values, not the client's file: ")
        parts = []
        for name, (old, new) in draft.whatif.items():
            label = FIELDS_BY_NAME[name].label if name in FIELDS_BY_NAME else name
            parts.append(f"{label} {format_amount(old)} → {format_amount(new)}")
        text.append("; ".join(parts))
        text.append(
            ". The record stores these edited values beside the client's own"
            + (" (a counter-offer)." if draft.final_decision == "ACCEPT" else "."),
            style="dim",
        )
    if draft.previous is not None:
        prev = draft.previous
        text.append(
            f"\nThis corrects decision #{prev.id} ({prev.final_decision} by {prev.advisor}, "
            f"{prev.time[:16].replace('T', ' ')} UTC)."
        )
    return text


class DecisionDialog(ModalScreen["DecisionRecord | None"]):
    """Confirm a decision; answers the committed record, or None when cancelled.

    The dialog stays open while the justification is missing or the audit log refuses the record, and
    closes only once the record is committed.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "record", "Record", show=True),
    ]

    class Recorded(Message):
        """The record was committed."""

        def __init__(self, record: DecisionRecord) -> None:
            self.record = record
            super().__init__()

    class Failed(Message):
        """Nothing was recorded."""

        def __init__(self, message: str, retryable: bool = False) -> None:
            self.message = message
            self.retryable = retryable
            super().__init__()

    def __init__(self, draft: DecisionDraft, recorder: Recorder) -> None:
        super().__init__(classes="dialog-screen")
        self.draft = draft
        self.recorder = recorder
        self.recording = False

    def compose(self) -> ComposeResult:
        """Title, summary, justification, error line, buttons."""
        draft = self.draft
        verb = "Accept" if draft.final_decision == "ACCEPT" else "Refuse"
        need = (
            f"required, at least {MIN_JUSTIFICATION_WORDS} different words"
            if draft.needs_justification
            else "optional"
        )
        with Vertical(id="decision-dialog", classes=f"dialog -{draft.final_decision.lower()}"):
            yield Label(f"{verb} client {draft.client_id}", classes="dialog-title")
            yield Static(draft_summary(draft), id="decision-summary")
            if draft.needs_justification:
                yield Select(
                    [(label, code) for code, label in OVERRIDE_CODES.items()],
                    prompt="Reason code (required)",
                    id="override-code",
                )
            yield Label(f"Justification ({need})", id="justification-label")
            yield Input(placeholder="Why you decide this way…", id="justification")
            yield Static("", id="decision-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    f"Record {draft.final_decision}",
                    variant="success" if draft.final_decision == "ACCEPT" else "error",
                    id="decision-record",
                )
                yield Button("Cancel", id="decision-cancel")
        yield Footer()

    def on_mount(self) -> None:
        """Focus the justification."""
        self.query_one("#justification", Input).focus()

    @property
    def error_text(self) -> str:
        """The error line as shown."""
        return str(self.query_one("#decision-error", Static).render())

    def _show_error(self, message: str) -> None:
        self.query_one("#decision-error", Static).update(Text(message))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the justification records."""
        event.stop()
        self.submit()

    @on(Button.Pressed, "#decision-record")
    def record_pressed(self, event: Button.Pressed) -> None:
        """Record."""
        event.stop()
        self.submit()

    @on(Button.Pressed, "#decision-cancel")
    def cancel_pressed(self, event: Button.Pressed) -> None:
        """Cancel."""
        event.stop()
        self.action_cancel()

    def action_record(self) -> None:
        """Enter: record (also when the focus is on a button)."""
        self.submit()

    def submit(self) -> None:
        """Check the justification, then record in a worker (the dialog waits for the commit)."""
        if self.recording:
            return
        text = self.query_one("#justification", Input).value.strip()
        words = justification_words(text)
        why = (
            "the model left this client for review"
            if self.draft.model_decision == "REVIEW"
            else f"{self.draft.final_decision} overrides the model's {self.draft.model_decision}"
        )
        code = ""
        if self.draft.needs_justification:
            selected = self.query_one("#override-code", Select).value
            code = selected if isinstance(selected, str) else ""
            if not code:
                self._show_error(f"Choose a reason code: {why}.")
                self.query_one("#override-code", Select).focus()
                return
        if self.draft.needs_justification and words < MIN_JUSTIFICATION_WORDS:
            self._show_error(
                f"Write at least {MIN_JUSTIFICATION_WORDS} different words of three letters or more: {why} "
                f"(got {words})."
            )
            self.query_one("#justification", Input).focus()
            return
        self.recording = True
        self._show_error("")
        self.query_one("#decision-record", Button).disabled = True
        self.query_one("#decision-record", Button).label = "Recording…"
        self._record(text, code)

    @work(thread=True, exclusive=True, group="record", exit_on_error=False)
    def _record(self, justification: str, code: str) -> None:
        from trainer.errors import UserError

        try:
            record = self.recorder(justification, code)
        except AuditRetryableError as error:
            self.post_message(self.Failed(f"{error} Enter retries (it is recorded once).", retryable=True))
            return
        except UserError as error:
            self.post_message(self.Failed(str(error)))
            return
        self.post_message(self.Recorded(record))

    def on_decision_dialog_recorded(self, message: Recorded) -> None:
        """Committed: close with the record."""
        self.dismiss(message.record)

    def on_decision_dialog_failed(self, message: Failed) -> None:
        """Nothing recorded: say why and let the advisor fix it or cancel."""
        self._unlock()
        if message.retryable:
            self._show_error(f"Not recorded yet. {message.message}")
            return
        self._show_error(f"Nothing was recorded. {message.message}")

    def _unlock(self) -> None:
        self.recording = False
        button = self.query_one("#decision-record", Button)
        button.disabled = False
        button.label = f"Record {self.draft.final_decision}"

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An unexpected failure: unlock the dialog and hand the error to the app's handler."""
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            self._unlock()
            self._show_error("Nothing was recorded (unexpected error).")
        app: CreditApp = self.app  # type: ignore[assignment]
        app.on_worker_state_changed(event)

    def action_cancel(self) -> None:
        """Close without recording (not while a record is being committed)."""
        if self.recording:
            self.notify("The decision is being recorded; wait for the confirmation.", severity="warning")
            return
        self.dismiss(None)
