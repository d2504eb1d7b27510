"""The what-if panel: form, result, hint and buttons as one widget that owns the what-if state.

The client screen calls :meth:`WhatIfPanel.start` and :meth:`WhatIfPanel.stop`; the panel rescores in a
worker on every valid edit and tells the screen with :class:`WhatIfPanel.Changed`. Values typed here are
never saved as the client's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Label, Static

from credit_tui.whatif_fields import FIELDS_BY_NAME
from credit_tui.widgets.what_if_form import WhatIfForm
from credit_tui.widgets.what_if_result import WhatIfResult
from credit_tui.widgets.worker_errors import WorkerErrorsToApp

if TYPE_CHECKING:
    from trainer.scoring import Explanation, Scorer
    from trainer.whatif import Hint

Changes = dict[str, tuple[Any, float | None]]


class HintLine(Static):
    """What would change the decision (the hint's sentence)."""

    DEFAULT_CSS = """
    HintLine { height: auto; margin-top: 1; }
    """


class WhatIfPanel(WorkerErrorsToApp, Vertical):
    """Form and result side by side (stacked when narrow), then the hint and the buttons."""

    class Changed(Message):
        """The what-if started, stopped, or has a new result (read the panel's attributes)."""

        def __init__(self, panel: WhatIfPanel) -> None:
            self.panel = panel
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.active = False
        self.scorer: Scorer | None = None
        self.client_id: int | None = None
        self.record: dict[str, Any] | None = None
        self.history: Mapping[str, float] | None = None
        self.original: Explanation | None = None
        self.changes: Changes = {}
        self.errors: dict[str, str] = {}
        self.scored_for: Changes | None = None
        self.explanation: Explanation | None = None
        self.hint: Hint | None = None

    def compose(self) -> ComposeResult:
        """Title, form + result, hint, buttons."""
        yield Label("What-if: edits are never saved to the client's file (w closes)", classes="panel-title")
        with Horizontal(id="whatif-row"):
            yield WhatIfForm(id="whatif-form")
            yield WhatIfResult(id="whatif-result")
        yield HintLine("", id="whatif-hint")
        with Horizontal(id="whatif-buttons"):
            yield Button("Apply hint (ctrl+y)", id="whatif-apply-hint", compact=True)
            yield Button("Reset (ctrl+r)", id="whatif-reset", compact=True)

    @property
    def form(self) -> WhatIfForm:
        """The form."""
        return self.query_one(WhatIfForm)

    @property
    def result(self) -> WhatIfResult:
        """The result beside the form."""
        return self.query_one(WhatIfResult)

    def _clear(self) -> None:
        self.changes, self.errors = {}, {}
        self.scored_for, self.explanation, self.hint = None, None, None

    def start(
        self,
        scorer: Scorer,
        client_id: int,
        record: Mapping[str, Any],
        history: Mapping[str, float] | None,
        original: Explanation,
    ) -> None:
        """Load the client's own values and look for the hint."""
        self.active = True
        self.scorer, self.client_id, self.original = scorer, client_id, original
        self.record, self.history = dict(record), history
        self._clear()
        self.form.load(self.record)
        self.result.show(original, None, "Edit a field to rescore the client.")
        self.query_one(HintLine).update(Text("Looking for a change that gives ACCEPT…", "dim"))
        self._rescore({})
        self.post_message(self.Changed(self))

    def stop(self) -> None:
        """Drop the what-if (the edits are forgotten)."""
        self.active = False
        self._clear()
        self.workers.cancel_group(self, "whatif")
        self.post_message(self.Changed(self))

    def problem(self) -> str | None:
        """Why a decision cannot be taken on the what-if values now, or None."""
        if not self.active or not self.changes:
            return None
        if self.errors:
            field = next(iter(self.errors))
            return f"Fix the what-if form first ({field}: {self.errors[field]}) or reset it (ctrl+r)."
        if self.scored_for != self.changes or self.explanation is None:
            return "The what-if is still being rescored; try again in a moment."
        return None

    def on_what_if_form_edited(self, message: WhatIfForm.Edited) -> None:
        """Rescore on every valid change; show a note while a field is invalid."""
        message.stop()
        if not self.active or self.original is None:
            return
        self.changes, self.errors = message.changes, message.errors
        if message.errors:
            name, error = next(iter(message.errors.items()))
            self.result.show(
                self.original,
                self.explanation if self.scored_for == message.changes else None,
                f"A field is invalid (in red), {FIELDS_BY_NAME[name].label}: {error} "
                "The result uses the last valid values.",
            )
        elif message.changes == self.scored_for:
            note = "" if message.changes else "Edit a field to rescore the client."
            self.result.show(self.original, self.explanation, note)
        else:
            self._rescore(message.changes)
        self.post_message(self.Changed(self))

    class Scored(Message):
        """The rescoring worker's answer (handled by the panel itself)."""

        def __init__(
            self, client_id: int, changes: Changes, explanation: Explanation | None, hint: Hint
        ) -> None:
            self.client_id = client_id
            self.changes = changes
            self.explanation = explanation
            self.hint = hint
            super().__init__()

    @work(thread=True, exclusive=True, group="whatif", exit_on_error=False)
    def _rescore(self, changes: Changes) -> None:
        from trainer.whatif import decision_change_hint

        record, scorer, client_id = self.record, self.scorer, self.client_id
        if record is None or scorer is None or client_id is None:
            return
        edits = {name: new for name, (_, new) in changes.items() if new is not None}
        explanation = scorer.what_if(record, edits, self.history) if changes else None
        hint = decision_change_hint(scorer, {**record, **edits}, self.history)
        self.post_message(self.Scored(client_id, changes, explanation, hint))

    def on_what_if_panel_scored(self, message: Scored) -> None:
        """Show the new PD, decision and changed contributions beside the original, and the hint."""
        message.stop()
        if (
            not self.active
            or message.client_id != self.client_id
            or message.changes != self.changes
            or self.errors
        ):
            return
        self.scored_for, self.explanation, self.hint = message.changes, message.explanation, message.hint
        note = "" if message.changes else "Edit a field to rescore the client."
        self.result.show(self.original, message.explanation, note)
        hint_text = Text("What would change the decision: ", style="bold")
        hint_text.append(message.hint.sentence, style="")
        from trainer.whatif import curve_text

        curve = "" if self.scorer is None else curve_text(message.hint.curve, self.scorer.threshold)
        if curve:
            hint_text.append(f"\n{curve}", style="dim")
        self.query_one(HintLine).update(hint_text)
        self.query_one("#whatif-apply-hint", Button).disabled = not message.hint.changes
        self.post_message(self.Changed(self))

    @on(Button.Pressed, "#whatif-apply-hint")
    def apply_hint(self) -> None:
        """Type the hint's changes into the form."""
        if not self.active:
            return
        if self.hint is None or not self.hint.changes:
            self.notify("There is no change to apply.", severity="information")
            return
        self.form.apply(self.hint.changes)

    @on(Button.Pressed, "#whatif-reset")
    def reset(self) -> None:
        """Put the client's own values back into the form."""
        if self.active and self.record is not None:
            self.form.load(self.record)
