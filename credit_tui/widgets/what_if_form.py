"""The what-if form: one input per negotiable field, checked as the advisor types (errors inline).

Each input carries a :class:`FieldValidator`, so Textual marks an invalid field with its built-in
``-invalid`` style; the form shows the validator's sentence under the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, Static

from credit_tui.render import plain
from credit_tui.whatif_fields import (
    FIELDS_BY_NAME,
    WHATIF_FIELDS,
    WhatIfField,
    as_number,
    changed_values,
    format_number,
    parse_field,
)


class FieldValidator(Validator):
    """Accepts what :func:`~credit_tui.whatif_fields.parse_field` accepts for one field."""

    def __init__(self, spec: WhatIfField, original: Callable[[], Any]) -> None:
        super().__init__()
        self.spec = spec
        self.original = original

    def validate(self, value: str) -> ValidationResult:
        """Success, or a failure whose description is the parser's sentence."""
        try:
            parse_field(self.spec, value, self.original())
        except ValueError as error:
            return self.failure(str(error), value)
        return self.success()


class FieldError(Static):
    """The one-line error under a what-if input (empty while the value is valid).

    At 80 columns a field is some 25 columns wide: the sentence is cut with an ellipsis on one line (never
    wrapped over the fields below), its whole text is the tooltip, and the result pane repeats it in full.
    """

    DEFAULT_CSS = """
    FieldError { height: 1; color: $text-error; display: none; text-wrap: nowrap; text-overflow: ellipsis; }
    FieldError.-shown { display: block; }
    """

    def show(self, message: str) -> None:
        """Show an error sentence ("" hides the line)."""
        self.update(plain(message))
        self.tooltip = plain(message) if message else None
        self.set_class(bool(message), "-shown")


class WhatIfForm(Vertical):
    """Inputs for the fields of :data:`WHATIF_FIELDS`; posts :class:`WhatIfForm.Edited` on every change."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave the form"),
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
                    yield Input(
                        id=f"wi-{spec.name}",
                        classes="whatif-input",
                        select_on_focus=False,
                        compact=True,
                        validators=[FieldValidator(spec, self._original(spec.name))],
                        validate_on=["changed"],
                    )
                    yield FieldError("", id=f"wi-err-{spec.name}", classes="whatif-error")

    def _original(self, name: str) -> Callable[[], Any]:
        return lambda: self.record.get(name)

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
            self.query_one(f"#wi-err-{spec.name}", FieldError).show("")

    def apply(self, changes: Mapping[str, float]) -> None:
        """Type new values into the form (e.g. a hint's changes)."""
        for name, value in changes.items():
            if name in FIELDS_BY_NAME:
                self.input_for(name).value = format_number(value)

    @property
    def changes(self) -> dict[str, tuple[Any, float | None]]:
        """Edited fields: name -> (client's value, new value)."""
        return changed_values(self.record, self.values)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Record the field's value or its error (the validator already styled the input)."""
        event.stop()
        name = (event.input.id or "").removeprefix("wi-")
        spec = FIELDS_BY_NAME.get(name)
        if spec is None:
            return
        result = event.validation_result
        if result is not None and not result.is_valid:
            message = result.failure_descriptions[0] if result.failure_descriptions else "Invalid value."
            self.errors[name] = message
        else:
            self.errors.pop(name, None)
            self.values[name] = parse_field(spec, event.value, self.record.get(name))
        self.query_one(f"#wi-err-{name}", FieldError).show(self.errors.get(name, ""))
        self.post_message(self.Edited(self.changes, dict(self.errors)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field."""
        event.stop()
        self.screen.focus_next()

    def action_leave(self) -> None:
        """Take the focus out of the form (the screen's keys work again)."""
        self.screen.set_focus(None)
