"""One client: PD gauge, decision, SHAP contributions, reasons, profile, history, population position."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, Static
from textual.worker import Worker

from credit_tui.profile import history_rows, profile_rows
from credit_tui.widgets.app_header import app_header
from credit_tui.widgets.contribution_bars import ContributionBars
from credit_tui.widgets.key_values import KeyValuePanel
from credit_tui.widgets.population_plot import PopulationPlot
from credit_tui.widgets.score_gauge import ScoreGauge
from credit_tui.widgets.what_if_form import WhatIfForm
from credit_tui.widgets.what_if_result import WhatIfResult
from trainer.text_safety import clean_text

if TYPE_CHECKING:
    from credit_tui.app import CreditApp
    from credit_tui.audit import DecisionRecord
    from credit_tui.client_index import ClientColumns
    from credit_tui.population import Bins, Population
    from credit_tui.services import Services
    from trainer.scoring import Explanation
    from trainer.whatif import Hint

NARROW_WIDTH = 110


def verdict_text(explanation: Explanation, band: tuple[float, float] | None) -> str:
    """Distance to the threshold in PD points, in words."""
    gap = (explanation.pd - explanation.threshold) * 100
    where = (
        f"{abs(gap):.1f} pts {'above' if gap >= 0 else 'below'} the threshold ({explanation.threshold:.1%})"
    )
    if explanation.decision == "REVIEW" and band is not None:
        where += f"; inside the review band {band[0]:.1%}–{band[1]:.1%}"
    return f"PD {explanation.pd:.1%} · {where}"


def decision_line(record: DecisionRecord | None, recording: bool = True) -> Text:
    """The client's latest recorded decision in one line (time UTC, advisor, decision, override)."""
    if not recording:
        return Text("Decisions are not recorded: no audit database is open.", style="dim")
    if record is None:
        return Text("No decision recorded yet · a accept · r refuse", style="dim")
    text = Text()
    text.append(f"Last decision #{record.id}: ", style="dim")
    text.append(record.final_decision, style="bold")
    if record.override:
        text.append(f" (override of {record.model_decision})", style="bold")
    elif record.model_decision == "REVIEW":
        text.append(" (review case)")
    text.append(clean_text(f" · {record.advisor} · {record.time[:16].replace('T', ' ')} UTC"), style="dim")
    if record.corrects is not None:
        text.append(f" · corrects #{record.corrects}", style="dim")
    return text


class ClientScreen(Screen[None]):
    """Everything an advisor needs to decide on one client."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Footer labels are short so every shown key fits at 120 columns; the help screen shows the
        # tooltip (the long description) and lists every key, the hidden ones included.
        Binding("escape,backspace", "back", "Back"),
        Binding("right_square_bracket,n", "step(1)", "Next", key_display="]", tooltip="Next client"),
        Binding("left_square_bracket,b", "step(-1)", "Prev", key_display="[", tooltip="Previous"),
        Binding("f", "next_feature", "Feature"),
        Binding("a", "decide('ACCEPT')", "Accept"),
        Binding("r", "decide('REFUSE')", "Refuse"),
        Binding("w", "whatif", "What-if"),
        Binding("l", "letter", "Letter"),
        Binding("ctrl+y", "apply_hint", "Apply hint"),
        Binding("ctrl+r", "reset_whatif", "Reset what-if"),
        # App keys kept out of this footer for room (still active, in the help screen and the palette).
        Binding("m", "app.model_card", "Model card", show=False),
        Binding("ctrl+t", "app.toggle_theme", "Theme", show=False),
    ]

    class WhatIfScored(Message):
        """The what-if worker rescored the client with some edited fields."""

        def __init__(
            self,
            client_id: int,
            changes: dict[str, tuple[Any, float | None]],
            explanation: Explanation | None,
            hint: Hint,
        ) -> None:
            self.client_id = client_id
            self.changes = changes
            self.explanation = explanation
            self.hint = hint
            super().__init__()

    class LetterDone(Message):
        """The letter worker finished (paths written, or an error sentence)."""

        def __init__(self, paths: tuple[Path, Path] | None, error: str | None) -> None:
            self.paths = paths
            self.error = error
            super().__init__()

    class PopulationReady(Message):
        """The histogram of a feature over the portfolio is ready."""

        def __init__(self, client_id: int, feature: str, bins: Bins) -> None:
            self.client_id = client_id
            self.feature = feature
            self.bins = bins
            super().__init__()

    def __init__(
        self,
        services: Services,
        columns: ClientColumns,
        population: Population,
        client_id: int,
        neighbours: np.ndarray[Any, np.dtype[np.int64]],
    ) -> None:
        super().__init__(id="client-screen")
        self.services = services
        self.columns = columns
        self.population = population
        self.client_id = client_id
        self.neighbours = neighbours
        self.feature_index = 0
        self.explanation: Explanation | None = None
        self.reasons: list[str] = []
        self.record: dict[str, Any] | None = None
        self.history: Mapping[str, float] | None = None
        self.latest: DecisionRecord | None = None
        self.whatif_open = False
        self.whatif_changes: dict[str, tuple[Any, float | None]] = {}
        self.whatif_errors: dict[str, str] = {}
        self.whatif_for: dict[str, tuple[Any, float | None]] | None = None
        self.whatif_explanation: Explanation | None = None
        self.hint: Hint | None = None

    def compose(self) -> ComposeResult:
        """Verdict, gauge, then two columns (one when narrow)."""
        yield app_header()
        with VerticalScroll(id="client-body"):
            with Horizontal(id="verdict-row"):
                yield Static("", id="client-title")
                yield Static("", id="badge")
                yield Static("", id="distance")
            yield Static("", id="decision-line")
            yield ScoreGauge(id="gauge")
            # Filled on the first `w` (about half the screen's widgets): opening a client stays cheap.
            yield Vertical(id="whatif-panel", classes="panel")
            with Horizontal(id="client-main"):
                with Vertical(id="client-left", classes="panel"):
                    yield Label("Why this score (log-odds; red raises the risk)", classes="panel-title")
                    yield ContributionBars(id="contributions")
                    yield Label("Reasons", classes="panel-title")
                    yield Static("", id="reasons")
                    yield Label("Position in the portfolio (f: next feature)", classes="panel-title")
                    yield PopulationPlot(id="population")
                with Vertical(id="client-right", classes="panel"):
                    yield Label("Profile", classes="panel-title")
                    yield KeyValuePanel("Loading…", id="profile")
                    yield Label("History", classes="panel-title", id="history-title")
                    yield KeyValuePanel("No history tables in this portfolio.", id="history")
        yield Footer()

    def on_mount(self) -> None:
        """Lay out for the size and start explaining."""
        self._set_narrow(self.size.width)
        self.show_client(self.client_id)

    def on_resize(self, event: events.Resize) -> None:
        """One column below ~110 cells, two above."""
        self._set_narrow(event.size.width)

    def _set_narrow(self, width: int) -> None:
        self.set_class(width < NARROW_WIDTH, "-narrow")

    # ------------------------------------------------------------------ client in

    def show_client(self, client_id: int) -> None:
        """Switch to another client: score, explain and fill every panel at once, in one batch.

        Explaining one client takes a few ms, less than a frame: the screen is laid out and drawn once
        with everything in it instead of once with placeholders and again when a worker answers. The
        population histogram follows after that frame.
        """
        self.client_id = client_id
        self.latest = None
        if self.whatif_open:
            self._close_whatif()
        portfolio, scorer = self.services.portfolio, self.services.scorer
        store = self.services.audit
        try:
            record = portfolio.record(client_id)
            history = portfolio.history_record(client_id)
            explanation = scorer.explain(record, history)
            reasons = scorer.reasons(explanation)
            latest = store.latest_for(client_id) if store is not None else None
        except Exception as error:  # shown like any failed worker: a dialog, not a crash
            from credit_tui.errors import describe_error

            with self.app.batch_update():
                self._show_unexplained(client_id)
            self.credit_app.show_error("Something went wrong", describe_error(error))
            return
        with self.app.batch_update():
            self._show_explained(client_id, record, history, explanation, reasons, latest)
        self.call_after_refresh(self._plot_population)

    def _show_unexplained(self, client_id: int) -> None:
        self.explanation = None
        self.record = None
        self.query_one("#client-title", Static).update(Text(f"Client {client_id}", style="bold"))
        badge = self.query_one("#badge", Static)
        badge.update(" … ")
        badge.set_classes("badge")
        self.query_one("#distance", Static).update("Not scored.")
        self.query_one("#decision-line", Static).update("")
        self.query_one(ContributionBars).show(None)
        self.query_one(ScoreGauge).show(None, self.services.scorer.threshold, None, "ACCEPT")

    def _show_explained(
        self,
        client_id: int,
        record: Mapping[str, Any],
        history: Mapping[str, float] | None,
        explanation: Explanation,
        reasons: list[str],
        latest: DecisionRecord | None,
    ) -> None:
        """Fill every panel (call inside ``app.batch_update``)."""
        scorer = self.services.scorer
        self.explanation = explanation
        self.reasons = reasons
        self.record = dict(record)
        self.history = history
        self.query_one("#client-title", Static).update(Text(f"Client {client_id}", style="bold"))
        self._show_latest(latest)
        badge = self.query_one("#badge", Static)
        badge.update(f" {explanation.decision} ")
        badge.set_classes(f"badge -{explanation.decision.lower()}")
        self.query_one("#distance", Static).update(verdict_text(explanation, scorer.review_band))
        self.query_one(ScoreGauge).show(
            explanation.pd, scorer.threshold, scorer.review_band, explanation.decision
        )
        self.query_one(ContributionBars).show(explanation)
        self.query_one("#reasons", Static).update(self._reasons_text(explanation, reasons))
        self.query_one("#profile", KeyValuePanel).show(profile_rows(record, explanation))
        self.query_one("#history", KeyValuePanel).show(history_rows(history))

    @staticmethod
    def _reasons_text(explanation: Explanation, reasons: list[str]) -> Text:
        if explanation.decision == "ACCEPT":
            return Text("Accepted: the PD is below the threshold.", style="dim")
        text = Text()
        for i, reason in enumerate(reasons):
            text.append(f"{'' if i == 0 else chr(10)}• {clean_text(reason)}")
        return text or Text("No single feature stands out.", style="dim")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Hand worker failures to the app's single error handler."""
        self.credit_app.on_worker_state_changed(event)

    @property
    def credit_app(self) -> CreditApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    # ------------------------------------------------------------------ population

    @property
    def feature(self) -> str:
        """Feature shown in the population histogram."""
        return self.population.features[self.feature_index % len(self.population.features)]

    def _plot_population(self) -> None:
        self._population_bins(self.client_id, self.feature)

    @work(thread=True, exclusive=True, group="population", exit_on_error=False)
    def _population_bins(self, client_id: int, feature: str) -> None:
        bins = self.population.bins(feature)  # cached per feature for the portfolio
        self.post_message(self.PopulationReady(client_id, feature, bins))

    def on_client_screen_population_ready(self, message: PopulationReady) -> None:
        """Draw the histogram with the client's value marked."""
        if message.client_id != self.client_id or message.feature != self.feature or self.explanation is None:
            return
        feature = message.feature
        value: float | str | None
        if feature == "PD":
            value = self.explanation.pd
        else:
            match = [c for c in self.explanation.contributions if c.feature == feature]
            value = match[0].value if match else None
        number = float(value) if isinstance(value, int | float) else None
        self.query_one(PopulationPlot).show(
            self.population.label(feature), message.bins, number, self.population.format(feature, value)
        )

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        """Back to the client list."""
        self.dismiss(None)

    def action_step(self, delta: int) -> None:
        """Open the next (or previous) client of the list."""
        hits = np.flatnonzero(self.neighbours == self.client_id)
        if not len(self.neighbours):
            return
        here = int(hits[0]) if len(hits) else -delta
        target = here + delta
        if not 0 <= target < len(self.neighbours):
            self.notify("No more clients in this direction.", severity="information")
            return
        self.show_client(int(self.neighbours[target]))

    def action_next_feature(self) -> None:
        """Show the next feature in the population histogram."""
        self.feature_index = (self.feature_index + 1) % len(self.population.features)
        self._plot_population()

    # ------------------------------------------------------------------ decisions

    def _show_latest(self, record: DecisionRecord | None) -> None:
        self.latest = record
        line = decision_line(record, recording=self.services.audit is not None)
        self.query_one("#decision-line", Static).update(line)

    def action_decide(self, final_decision: str) -> None:
        """Open the decision dialog for ACCEPT or REFUSE (the what-if values when a what-if is active)."""
        from credit_tui.decision_flow import DecisionDraft, record_decision
        from credit_tui.screens.decision_dialog import DecisionDialog

        if self.services.audit is None:
            self.notify("No audit database is open, so decisions cannot be recorded.", severity="error")
            return
        if self.explanation is None or self.record is None:
            self.notify("The client is still being scored; try again in a moment.", severity="warning")
            return
        changes = self.whatif_changes if self.whatif_open else {}
        effective = self.explanation
        if changes:
            if self.whatif_errors:
                field = next(iter(self.whatif_errors))
                self.notify(
                    f"Fix the what-if form first ({field}: {self.whatif_errors[field]}) "
                    "or reset it (ctrl+r).",
                    severity="warning",
                )
                return
            if self.whatif_for != changes or self.whatif_explanation is None:
                self.notify("The what-if is still being rescored; try again in a moment.", severity="warning")
                return
            effective = self.whatif_explanation
        row = {**self.record, **{name: new for name, (_, new) in changes.items() if new is not None}}
        draft = DecisionDraft(
            client_id=self.client_id,
            final_decision=final_decision,
            model_decision=effective.decision,
            pd=effective.pd,
            row=row,
            history=self.history,
            whatif=dict(changes),
            previous=self.latest,
        )
        self.app.push_screen(
            DecisionDialog(draft, partial(record_decision, self.services, draft)), self._decided
        )

    def _decided(self, record: DecisionRecord | None) -> None:
        if record is None:
            return
        if record.client_id == self.client_id:
            self._show_latest(record)
        kind = " (override)" if record.override else ""
        pending = getattr(self.services.audit, "recorded_pending", {}).get(record.id, False)
        wait = " It waits for a supervisor's approval (four-eyes) before any letter." if pending else ""
        self.notify(
            f"Decision #{record.id} recorded: {record.final_decision}{kind} for client "
            f"{record.client_id}.{wait}",
            title="Recorded",
        )

    # ------------------------------------------------------------------ letter

    def action_letter(self) -> None:
        """Write the letter of the latest recorded decision (Markdown and HTML) in the letters folder."""
        if self.services.audit is None:
            self.notify("No audit database is open, so there is no decision to write.", severity="error")
            return
        if self.latest is None:
            self.notify(
                f"No decision is recorded for client {self.client_id} yet; record one (a / r) first.",
                severity="warning",
            )
            return
        self._write_letter(self.latest, self.credit_app.letters_dir)

    @work(thread=True, exclusive=True, group="letter", exit_on_error=False)
    def _write_letter(self, record: DecisionRecord, folder: Path) -> None:
        from credit_tui.letter import UNRELEASED_NOTE, pending_refusal, write_record_letter
        from trainer.errors import UserError

        try:
            store = self.services.audit
            refusal = None if store is None else pending_refusal(record, store.status(record.id))
            if refusal is not None:
                self.post_message(self.LetterDone(None, refusal))
                return
            scorer = self.services.scorer
            unreleased = scorer.release is None and record.bundle_id == str(scorer.bundle.model_id)
            paths = write_record_letter(folder, record, model_note=UNRELEASED_NOTE if unreleased else "")
        except UserError as error:
            self.post_message(self.LetterDone(None, str(error)))
            return
        self.post_message(self.LetterDone(paths, None))

    def on_client_screen_letter_done(self, message: LetterDone) -> None:
        """Say where the letter is (or why it is not)."""
        if message.paths is None:
            self.notify(message.error or "The letter could not be written.", severity="error", timeout=8)
            return
        md_path, html_path = message.paths
        self.notify(
            f"Written to {md_path.parent}: {md_path.name} and {html_path.name}",
            title="Decision letter",
            timeout=8,
        )

    # ------------------------------------------------------------------ what-if

    @property
    def whatif_form(self) -> WhatIfForm:
        """The what-if form."""
        return self.query_one(WhatIfForm)

    @property
    def whatif_result(self) -> WhatIfResult:
        """The what-if result panel."""
        return self.query_one(WhatIfResult)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show the hint and reset keys only while the what-if panel is open."""
        if action in ("apply_hint", "reset_whatif"):
            return self.whatif_open
        return True

    @staticmethod
    def _whatif_widgets() -> list[Widget]:
        return [
            Label(
                "What-if: edits are never saved to the client's file (w closes, esc leaves the form)",
                classes="panel-title",
            ),
            Horizontal(WhatIfForm(id="whatif-form"), WhatIfResult(id="whatif-result"), id="whatif-row"),
            Static("", id="whatif-hint"),
            Horizontal(
                Button("Apply hint (ctrl+y)", id="whatif-apply-hint"),
                Button("Reset (ctrl+r)", id="whatif-reset"),
                id="whatif-buttons",
            ),
        ]

    async def action_whatif(self) -> None:
        """Open the what-if form on the client's values, or close it (the edits are dropped)."""
        if self.whatif_open:
            self._close_whatif()
            return
        if self.explanation is None or self.record is None:
            self.notify("The client is still being scored; try again in a moment.", severity="warning")
            return
        panel = self.query_one("#whatif-panel", Vertical)
        if not panel.children:
            await panel.mount_all(self._whatif_widgets())
        self.whatif_open = True
        self.add_class("-whatif")
        self.whatif_changes, self.whatif_errors = {}, {}
        self.whatif_for, self.whatif_explanation, self.hint = None, None, None
        self.whatif_form.load(self.record)
        self.whatif_result.show(self.explanation, None, "Edit a field to rescore the client.")
        self.query_one("#whatif-hint", Static).update(Text("Looking for a change that gives ACCEPT…", "dim"))
        self.refresh_bindings()
        self.whatif_form.input_for("AMT_CREDIT").focus()
        self._rescore({})

    def _close_whatif(self) -> None:
        self.whatif_open = False
        self.remove_class("-whatif")
        self.whatif_changes, self.whatif_errors = {}, {}
        self.whatif_for, self.whatif_explanation, self.hint = None, None, None
        self.workers.cancel_group(self, "whatif")
        if isinstance(self.focused, Input):
            self.set_focus(None)
        self.refresh_bindings()

    def on_what_if_form_edited(self, message: WhatIfForm.Edited) -> None:
        """Rescore on every valid change; show a note while a field is invalid."""
        if not self.whatif_open or self.explanation is None:
            return
        self.whatif_changes, self.whatif_errors = message.changes, message.errors
        if message.errors:
            self.whatif_result.show(
                self.explanation,
                self.whatif_explanation if self.whatif_for == message.changes else None,
                "A field is invalid (in red): the result uses the last valid values.",
            )
            return
        if message.changes == self.whatif_for:
            note = "" if message.changes else "Edit a field to rescore the client."
            self.whatif_result.show(self.explanation, self.whatif_explanation, note)
            return
        self._rescore(message.changes)

    @work(thread=True, exclusive=True, group="whatif", exit_on_error=False)
    def _rescore(self, changes: dict[str, tuple[Any, float | None]]) -> None:
        from trainer.whatif import decision_change_hint

        record, history = self.record, self.history
        if record is None:
            return
        scorer = self.services.scorer
        edits = {name: new for name, (_, new) in changes.items() if new is not None}
        explanation = scorer.what_if(record, edits, history) if changes else None
        hint = decision_change_hint(scorer, {**record, **edits}, history)
        self.post_message(self.WhatIfScored(self.client_id, changes, explanation, hint))

    def on_client_screen_what_if_scored(self, message: WhatIfScored) -> None:
        """Show the new PD, decision and changed contributions beside the original, and the hint."""
        if (
            not self.whatif_open
            or message.client_id != self.client_id
            or message.changes != self.whatif_changes
            or self.whatif_errors
        ):
            return
        self.whatif_for = message.changes
        self.whatif_explanation = message.explanation
        self.hint = message.hint
        note = "" if message.changes else "Edit a field to rescore the client."
        self.whatif_result.show(self.explanation, message.explanation, note)
        hint_text = Text("What would change the decision: ", style="bold")
        hint_text.append(message.hint.sentence, style="")
        self.query_one("#whatif-hint", Static).update(hint_text)
        self.query_one("#whatif-apply-hint", Button).disabled = not message.hint.changes

    def action_apply_hint(self) -> None:
        """Type the hint's changes into the form."""
        if not self.whatif_open:
            return
        if self.hint is None or not self.hint.changes:
            self.notify("There is no change to apply.", severity="information")
            return
        self.whatif_form.apply(self.hint.changes)

    def action_reset_whatif(self) -> None:
        """Put the client's own values back into the form."""
        if self.whatif_open and self.record is not None:
            self.whatif_form.load(self.record)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """The what-if buttons."""
        event.stop()
        if event.button.id == "whatif-apply-hint":
            self.action_apply_hint()
        elif event.button.id == "whatif-reset":
            self.action_reset_whatif()
