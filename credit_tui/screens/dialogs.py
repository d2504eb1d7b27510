"""Modal dialogs: an error message, the PD range filter, and the date range of the decisions screen."""

from __future__ import annotations

import math
from datetime import date
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Footer, Input, Label, Static

from credit_tui.render import plain


class OneLineError(Static):
    """A dialog's error: one line, cut with an ellipsis rather than wrapped."""

    DEFAULT_CSS = """
    OneLineError { height: 1; color: $text-error; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def show(self, message: str) -> None:
        """Show a sentence ("" clears it)."""
        self.update(plain(message))


class ErrorDialog(ModalScreen[None]):
    """A clear message about something that went wrong; Enter or Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close", key_display="esc"),
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
        yield Footer()

    def on_mount(self) -> None:
        """Focus the button."""
        self.query_one(Button).focus()

    @on(Button.Pressed, "#error-ok")
    def close_on_button(self, event: Button.Pressed) -> None:
        """Close on the button."""
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        """Close the dialog."""
        self.dismiss(None)


PD_RANGE_FORMAT = "LOW-HIGH in percent, e.g. 10-30 or 2.5-7.5"


def parse_pd_range(text: str) -> tuple[float, float] | None:
    """Parse a PD range typed in percent ("10-30", "2.5 - 7.5 %", "30-10") into fractions; "" means none.

    Both numbers are always percent ("0.5-1" is 0.5 % to 1 %); a reversed range is swapped.

    Raises:
        ValueError: With one sentence saying what was expected.
    """
    text = text.strip().replace("%", "").replace(" ", "")
    if not text:
        return None
    parts = text.split("-")
    expected = f"Type a range like 10-30 ({PD_RANGE_FORMAT.split(', e.g.')[0]})."
    if len(parts) != 2 or not all(parts):
        raise ValueError(expected)
    try:
        low, high = sorted(float(p) for p in parts)
    except ValueError:
        raise ValueError(expected) from None
    if not (math.isfinite(low) and math.isfinite(high)) or not 0 <= low <= high <= 100:
        raise ValueError("Both ends must be percentages from 0 to 100.")
    return low / 100, high / 100


class PdRangeValidator(Validator):
    """Accepts what :func:`parse_pd_range` accepts."""

    def validate(self, value: str) -> ValidationResult:
        """Success, or the parser's sentence."""
        try:
            parse_pd_range(value)
        except ValueError as error:
            return self.failure(str(error), value)
        return self.success()


class PdRangeDialog(ModalScreen[tuple[float, float] | None | bool]):
    """Ask for a PD range; answers the range, None to clear it, or False when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, current: tuple[float, float] | None) -> None:
        super().__init__(classes="dialog-screen")
        self.current = current

    def compose(self) -> ComposeResult:
        """A prompt, an input, an error line."""
        value = "" if self.current is None else f"{self.current[0] * 100:g}-{self.current[1] * 100:g}"
        with Vertical(id="pd-dialog", classes="dialog"):
            yield Label("Show clients whose PD is in a range", classes="dialog-title")
            yield Label(f"Format: {PD_RANGE_FORMAT}. Empty: every PD.")
            yield Input(
                value=value,
                placeholder="10-30",
                id="pd-input",
                validators=[PdRangeValidator()],
                validate_on=["submitted"],
            )
            yield OneLineError("", id="pd-error")
        yield Footer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Validate and answer."""
        event.stop()
        result = event.validation_result
        if result is not None and not result.is_valid:
            self.query_one("#pd-error", OneLineError).show(result.failure_descriptions[0])
            return
        self.dismiss(parse_pd_range(event.value))

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
            yield OneLineError("", id="date-error")
        yield Footer()

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
            self.query_one("#date-error", OneLineError).show(str(exc))
            return
        if since is not None and until is not None and since > until:
            since, until = until, since  # a reversed range is swapped, like the PD range
        self.dismiss((since, until))

    def action_cancel(self) -> None:
        """Close without changing the filter."""
        self.dismiss(False)
