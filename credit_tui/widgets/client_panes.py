"""Small panes of the client screen: the reasons list, and the client's decisions (which writes letters)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from credit_tui.client_text import reasons_text
from credit_tui.record_view import final_label
from credit_tui.render import plain
from credit_tui.widgets.worker_errors import WorkerErrorsToApp
from trainer.plain import format_pd

if TYPE_CHECKING:
    from credit_tui.audit import DecisionRecord
    from credit_tui.services import Services
    from trainer.scoring import Explanation


class ReasonList(Static):
    """Up to four plain-language reasons for a REFUSE or REVIEW (the scorer's list, shown as given)."""

    DEFAULT_CSS = """
    ReasonList { height: auto; }
    """

    def show(self, explanation: Explanation, reasons: list[str]) -> None:
        """Show the PD in words, then the reasons (an accepted client near the threshold: strengths)."""
        self.update(reasons_text(explanation, reasons))


def record_text(record: DecisionRecord) -> Text:
    """One recorded decision: number, time, final decision, override, advisor, justification."""
    text = Text()
    text.append(f"#{record.id} {record.time[:16].replace('T', ' ')} UTC  ", style="dim")
    text.append(final_label(record), style="bold")
    if record.override:
        text.append(f" (override of the model's {record.model_decision})", style="bold")
    else:
        text.append(f" (model: {record.model_decision})")
    text.append(f" · PD {format_pd(record.pd)} · ")
    text.append(plain(record.advisor))
    if record.corrects is not None:
        text.append(f" · corrects #{record.corrects}", style="dim")
    if record.justification:
        text.append("\n    ")
        text.append(plain(record.justification, style="italic"))
    return text


class ClientDecisions(WorkerErrorsToApp, Static):
    """Every decision recorded for the client, newest first; writes the letter of the latest one."""

    DEFAULT_CSS = """
    ClientDecisions { height: auto; }
    """

    class LetterDone(Message):
        """The letter worker finished (paths written, or an error sentence)."""

        def __init__(self, paths: tuple[Path, Path] | None, error: str | None) -> None:
            self.paths = paths
            self.error = error
            super().__init__()

    def write_letter(self, record: DecisionRecord, folder: Path, services: Services) -> None:
        """Write the decision letter (Markdown and HTML) in a worker; a notification says where.

        A decision still waiting for (or refused) a supervisor's approval gets no letter; a decision of
        an unreleased model's bundle says so in the letter.
        """
        self._write_letter(record, folder, services)

    @work(thread=True, exclusive=True, group="letter", exit_on_error=False)
    def _write_letter(self, record: DecisionRecord, folder: Path, services: Services) -> None:
        from credit_tui.letter import UNRELEASED_NOTE, pending_refusal, write_record_letter
        from trainer.errors import UserError

        try:
            folder.mkdir(parents=True, exist_ok=True)  # the default folder in the user data folder
        except OSError as error:
            message = f"Cannot create the letters folder {folder} ({error.strerror}); pass --letters-dir."
            self.post_message(self.LetterDone(None, message))
            return
        try:
            store = services.audit
            refusal = None if store is None else pending_refusal(record, store.status(record.id))
            if refusal is not None:
                self.post_message(self.LetterDone(None, refusal))
                return
            scorer = services.scorer
            unreleased = scorer.release is None and record.bundle_id == str(scorer.bundle.model_id)
            paths = write_record_letter(
                folder,
                record,
                services.desk,
                for_client_decisions=scorer.bundle.for_client_decisions,
                model_note=UNRELEASED_NOTE if unreleased else "",
            )
        except UserError as error:
            self.post_message(self.LetterDone(None, str(error)))
            return
        self.post_message(self.LetterDone(paths, None))

    def on_client_decisions_letter_done(self, message: LetterDone) -> None:
        """Say where the letter is (or why it is not)."""
        message.stop()
        if message.paths is None:
            self.notify(message.error or "The letter could not be written.", severity="error", timeout=8)
            return
        md_path, html_path = message.paths
        self.notify(
            f"Written to {md_path.parent}: {md_path.name} and {html_path.name}",
            title="Decision letter",
            timeout=8,
        )

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
