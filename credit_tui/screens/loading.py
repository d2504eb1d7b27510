"""The wait shown when a client is opened before the portfolio's history is ready."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, LoadingIndicator, Static


class HistoryWaitScreen(ModalScreen[bool]):
    """Shows "Loading history…" until the app has the history, then closes so the client opens.

    Nothing is explained before the history is there (an explanation without it would show wrong
    numbers). The app dismisses this screen with True when the history arrives (or the screen does,
    when it comes back on top after the history arrived); Escape cancels the opening (False).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Back to the list")]

    DEFAULT_CSS = """
    #history-wait-dialog {
        width: 70; max-width: 95%; height: auto; border: thick $primary; background: $surface; padding: 1 2;
    }
    #history-wait-dialog LoadingIndicator { height: 1; margin: 1 0; }
    #history-wait-hint { color: $text-muted; }
    """

    def __init__(self, client_id: int) -> None:
        super().__init__(classes="dialog-screen", id="history-wait")
        self.client_id = client_id

    def compose(self) -> ComposeResult:
        """A title, what is happening, a spinner."""
        with Vertical(id="history-wait-dialog"):
            yield Label("Loading history…", classes="dialog-title")
            yield Static(self._text(), id="history-wait-message")
            yield LoadingIndicator()
            yield Static("Esc: back to the list", id="history-wait-hint")
        yield Footer()

    def _text(self) -> str:
        return (
            f"Client {self.client_id} opens as soon as the portfolio's credit history is aggregated "
            "(its PD and reasons depend on it)."
        )

    def wait_for(self, client_id: int) -> None:
        """Open this client instead when the history is ready."""
        self.client_id = client_id
        if self.is_mounted:
            self.query_one("#history-wait-message", Static).update(self._text())

    def on_screen_resume(self) -> None:
        """Close at once when the history arrived while another screen was on top."""
        if getattr(self.app, "history_ready", False):
            self.dismiss(True)

    def action_cancel(self) -> None:
        """Do not open the client."""
        self.dismiss(False)
