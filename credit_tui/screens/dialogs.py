"""Modal dialogs: an error message, the PD range filter, and the date range of the decisions screen."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from credit_tui.render import plain


class ErrorDialog(ModalScreen[None]):
    """A clear message about something that went wrong; Enter or Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close"),
    ]

    def __init__(self, title: str, message: str, quit_label: str = "OK") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.message = message
        self.quit_label = quit_label

    def compose(self) -> ComposeResult:
        """A title, the message, one button."""
        with Vertical(id="error-dialog", classes="dialog"):
            yield Label(plain(self.title_text), classes="dialog-title")
            yield Static(plain(self.message), id="error-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.quit_label, variant="error", id="error-ok")

    def on_mount(self) -> None:
        """Focus the button."""
        self.query_one(Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Close on the button."""
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        """Close the dialog."""
        self.dismiss(None)


def parse_pd_range(text: str) -> tuple[float, float] | None:
    """Parse "10-30" (percent) or "0.1-0.3" into a PD range; "" means no range.

    Raises:
        ValueError: With a sentence saying what was expected.
    """
    text = text.strip().replace("%", "").replace(" ", "")
    if not text:
        return None
    parts = text.split("-")
    if len(parts) != 2 or not all(parts):
        raise ValueError("Type a range like 10-30 (percent) or 0.1-0.3.")
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise ValueError("Type a range like 10-30 (percent) or 0.1-0.3.") from None
    if low > 1 or high > 1:
        low, high = low / 100, high / 100
    if not 0 <= low <= high <= 1:
        raise ValueError("The range must go from a lower to a higher PD between 0 and 100 %.")
    return low, high


class PdRangeDialog(ModalScreen[tuple[float, float] | None | bool]):
    """Ask for a PD range; answers the range, None to clear it, or False when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: tuple[float, float] | None) -> None:
        super().__init__(classes="dialog-screen")
        self.current = current

    def compose(self) -> ComposeResult:
        """A prompt, an input, an error line."""
        value = "" if self.current is None else f"{self.current[0] * 100:g}-{self.current[1] * 100:g}"
        with Vertical(id="pd-dialog", classes="dialog"):
            yield Label("PD range (percent), e.g. 10-30; empty for all", classes="dialog-title")
            yield Input(value=value, placeholder="10-30", id="pd-input")
            yield Static("", id="pd-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Validate and answer."""
        event.stop()
        try:
            answer = parse_pd_range(event.value)
        except ValueError as exc:
            self.query_one("#pd-error", Static).update(plain(exc))
            return
        self.dismiss(answer)

    def action_cancel(self) -> None:
        """Close without changing the filter."""
        self.dismiss(False)


def parse_day(text: str, what: str) -> date | None:
    """Parse a YYYY-MM-DD date ("" means no limit).

    Raises:
        ValueError: With a sentence saying what was expected.
    """
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"The {what} date {text!r} is not a date like 2026-01-31.") from None


class DateRangeDialog(ModalScreen[tuple[date | None, date | None] | bool]):
    """Ask for a date range (UTC days, both ends included); answers (from, to) or False when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, since: date | None, until: date | None) -> None:
        super().__init__(classes="dialog-screen")
        self.since = since
        self.until = until

    def compose(self) -> ComposeResult:
        """Two inputs and an error line."""
        with Vertical(id="date-dialog", classes="dialog"):
            yield Label("Decisions recorded between (UTC days, empty for no limit)", classes="dialog-title")
            yield Label("From (YYYY-MM-DD)")
            since = self.since.isoformat() if self.since else ""
            yield Input(value=since, placeholder="2026-01-01", id="date-from")
            yield Label("To (YYYY-MM-DD, included)")
            until = self.until.isoformat() if self.until else ""
            yield Input(value=until, placeholder="2026-12-31", id="date-to")
            yield Static("", id="date-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in "from" moves to "to"; enter in "to" validates and answers."""
        event.stop()
        if event.input.id == "date-from":
            self.query_one("#date-to", Input).focus()
            return
        try:
            since = parse_day(self.query_one("#date-from", Input).value, "from")
            until = parse_day(self.query_one("#date-to", Input).value, "to")
        except ValueError as exc:
            self.query_one("#date-error", Static).update(plain(exc))  # quotes what was typed
            return
        if since is not None and until is not None and since > until:
            self.query_one("#date-error", Static).update("The from date must not be after the to date.")
            return
        self.dismiss((since, until))

    def action_cancel(self) -> None:
        """Close without changing the filter."""
        self.dismiss(False)
