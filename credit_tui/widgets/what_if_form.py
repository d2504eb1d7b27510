"""The what-if form: one input per negotiable field, checked as the advisor types (errors inline)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from credit_tui.render import plain
from credit_tui.whatif_fields import (
    FIELDS_BY_NAME,
    WHATIF_FIELDS,
    as_number,
    changed_values,
    format_number,
    parse_field,
)


class WhatIfForm(Vertical):
    """Inputs for the fields of :data:`WHATIF_FIELDS`; posts :class:`WhatIfForm.Edited` on every change."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave the form", show=False),
    ]

    class Edited(Message):
        """The form changed.

        Attributes:
            changes: Edited fields: name -> (client's value, new value); empty when nothing differs.
            errors: Field name -> error sentence for every field that does not parse.
        """

        def __init__(self, changes: dict[str, tuple[Any, float | None]], errors: dict[str, str]) -> None:
            self.changes = changes
            self.errors = errors
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.record: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.values: dict[str, float | None] = {}

    def compose(self) -> ComposeResult:
        """A grid of labelled inputs, each with its error line."""
        with Grid(id="whatif-grid"):
            for spec in WHATIF_FIELDS:
                with Vertical(classes="whatif-field"):
                    yield Label(spec.label, classes="whatif-label")
                    yield Input(id=f"wi-{spec.name}", classes="whatif-input", select_on_focus=False)
                    yield Static("", id=f"wi-err-{spec.name}", classes="whatif-error")

    def input_for(self, name: str) -> Input:
        """The input of a field."""
        return self.query_one(f"#wi-{name}", Input)

    def load(self, record: Mapping[str, Any]) -> None:
        """Show a client's own values (this is also the reset)."""
        self.record = dict(record)
        self.errors = {}
        self.values = {spec.name: as_number(record.get(spec.name)) for spec in WHATIF_FIELDS}
        for spec in WHATIF_FIELDS:
            self.input_for(spec.name).value = format_number(record.get(spec.name))
            self._show_error(spec.name, "")

    def apply(self, changes: Mapping[str, float]) -> None:
        """Type new values into the form (e.g. a hint's changes)."""
        for name, value in changes.items():
            if name in FIELDS_BY_NAME:
                self.input_for(name).value = format_number(value)

    @property
    def changes(self) -> dict[str, tuple[Any, float | None]]:
        """Edited fields: name -> (client's value, new value)."""
        return changed_values(self.record, self.values)

    def _show_error(self, name: str, message: str) -> None:
        self.query_one(f"#wi-err-{name}", Static).update(plain(message))  # quotes what was typed
        self.input_for(name).set_class(bool(message), "-invalid")

    def on_input_changed(self, event: Input.Changed) -> None:
        """Check the field, show its error, and tell the screen."""
        event.stop()
        name = (event.input.id or "").removeprefix("wi-")
        spec = FIELDS_BY_NAME.get(name)
        if spec is None:
            return
        try:
            self.values[name] = parse_field(spec, event.value, self.record.get(name))
        except ValueError as error:
            self.errors[name] = str(error)
            self._show_error(name, str(error))
        else:
            self.errors.pop(name, None)
            self._show_error(name, "")
        self.post_message(self.Edited(self.changes, dict(self.errors)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field."""
        event.stop()
        self.screen.focus_next()

    def action_leave(self) -> None:
        """Take the focus out of the form (the screen's keys work again)."""
        self.screen.set_focus(None)
