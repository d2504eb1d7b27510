"""One client: a fixed verdict header above tabs (Why · Profile · History · Portfolio · What-if · Decisions).

Designed for 80x24 first: each tab fits one screen. From 120 columns the what-if form and its result sit
side by side; from 200 columns the profile and history stay visible beside the tabs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from textual import events
from textual._time import get_time
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, TabbedContent, TabPane
from textual.worker import Worker

from credit_tui.profile import history_rows, profile_rows
from credit_tui.widgets.app_header import AppFooter, app_header, essential_bindings
from credit_tui.widgets.client_panes import ClientDecisions, ReasonList
from credit_tui.widgets.contribution_bars import ContributionBars
from credit_tui.widgets.key_values import KeyValuePanel
from credit_tui.widgets.portfolio_pane import PortfolioPane
from credit_tui.widgets.verdict import VerdictHeader
from credit_tui.widgets.what_if_panel import WhatIfPanel

if TYPE_CHECKING:
    from credit_tui.app import CreditApp
    from credit_tui.audit import DecisionRecord
    from credit_tui.client_index import ClientColumns
    from credit_tui.population import Population
    from credit_tui.services import Services
    from trainer.scoring import Explanation

#: Tab ids in order (keys 1-6).
TABS = ("why", "profile-tab", "history-tab", "portfolio-tab", "whatif-tab", "decisions-tab")
#: Contribution bars shown below / from this screen height.
SHORT_HEIGHT = 30
TABS_GROUP = Binding.Group("Tabs", compact=True)
#: Title of the contributions panel in PD points (False) and in log-odds (True).
BARS_TITLE = {
    False: "Why this score (PD points: + raises the risk, - lowers it; o: log-odds)",
    True: "Why this score (log-odds: + raises the risk, - lowers it; o: PD points)",
}


class _OpenTimer:
    """Times one client opened, from the key that asked for it to the frame drawn (``CREDIT_TUI_TIMINGS``)."""

    def __init__(self, app: CreditApp) -> None:
        self.timings = app.timings
        now = get_time()
        self.key = app.last_key_time if 0 < now - app.last_key_time < 5 else now
        self.laps: dict[str, float] = {"queued": now - self.key}
        self._last = time.perf_counter()
        self._cpu = time.thread_time()
        self._gc = self.timings.gc_state()

    def lap(self, name: str) -> None:
        """Seconds since the previous lap, under ``name``."""
        now = time.perf_counter()
        self.laps[name], self._last = now - self._last, now

    def done(self, client_id: int) -> None:
        """The frame with the client is drawn: write the line."""
        self.lap("draw")
        gc_seconds, collections, full = self.timings.gc_state()
        fields = {name: f"{seconds * 1000:.1f}" for name, seconds in self.laps.items()}
        self.timings.write(
            "open",
            get_time() - self.key,
            client=client_id,
            **fields,
            cpu=f"{(time.thread_time() - self._cpu) * 1000:.1f}",
            gc=f"{(gc_seconds - self._gc[0]) * 1000:.1f}",
            gcn=collections - self._gc[1],
            gcfull=full - self._gc[2],
        )


class ClientScreen(Screen[None]):
    """Everything an advisor needs to decide on one client."""

    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012 (Textual's own ClassVar name)
        (0, "-narrow"),
        (120, "-medium"),
        (200, "-wide"),
    ]

    BINDINGS: ClassVar[list[BindingType]] = [
        *essential_bindings(),
        Binding("o", "toggle_units", "Units", show=False, tooltip="PD points / log-odds"),
        Binding("a", "decide('ACCEPT')", "Accept"),
        Binding("r", "decide('REFUSE')", "Refuse"),
        Binding("w", "whatif", "What-if"),
        Binding("l", "letter", "Letter"),
        Binding("escape,backspace", "back", "Back"),
        *[
            Binding(str(i + 1), f"tab({i})", tab, group=TABS_GROUP)
            for i, tab in enumerate(("Why", "Profile", "History", "Portfolio", "What-if", "Decisions"))
        ],
        Binding("right_square_bracket,n", "step(1)", "Next", key_display="]", tooltip="Next client"),
        Binding("left_square_bracket,b", "step(-1)", "Prev", key_display="[", tooltip="Previous client"),
        Binding("f", "next_feature", "Feature", tooltip="Portfolio tab: show the next feature"),
        Binding("ctrl+y", "apply_hint", "Apply hint"),
        Binding("ctrl+r", "reset_whatif", "Reset what-if"),
        Binding("m", "app.model_card", "Model card", show=False),
        Binding("ctrl+t", "app.toggle_theme", "Theme", show=False),
    ]

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
        self.explanation: Explanation | None = None
        self.reasons: list[str] = []
        self.record: dict[str, Any] | None = None
        self.history: Mapping[str, float] | None = None
        self.latest: DecisionRecord | None = None
        self._styled_theme: str | None = None

    def compose(self) -> ComposeResult:
        """Header, verdict, tabs (and the side column shown from 200 columns), footer."""
        yield app_header()
        yield VerdictHeader(id="verdict")
        with Horizontal(id="client-main"):
            with TabbedContent(id="client-tabs", initial="why"):
                with TabPane("1 Why", id="why"), VerticalScroll():
                    yield Label("Reasons", classes="panel-title")
                    yield ReasonList("", id="reasons")
                    yield Label(BARS_TITLE[False], classes="panel-title", id="bars-title")
                    yield ContributionBars(id="contributions")
                with TabPane("2 Profile", id="profile-tab"), VerticalScroll():
                    yield KeyValuePanel("Loading…", id="profile")
                with TabPane("3 History", id="history-tab"), VerticalScroll():
                    yield KeyValuePanel("No history tables in this portfolio.", id="history")
                with TabPane("4 Portfolio", id="portfolio-tab"), VerticalScroll():
                    yield PortfolioPane(self.population, id="portfolio")
                with TabPane("5 What-if", id="whatif-tab"), VerticalScroll():
                    yield WhatIfPanel(id="whatif-panel")
                with TabPane("6 Decisions", id="decisions-tab"), VerticalScroll():
                    yield ClientDecisions("", id="client-decisions")
            with VerticalScroll(id="client-side"):
                yield Label(
                    f"Profile (amounts in {self.services.desk.product.currency})", classes="panel-title"
                )
                yield KeyValuePanel("Loading…", id="side-profile")
                yield Label("History", classes="panel-title")
                yield KeyValuePanel("No history tables in this portfolio.", id="side-history")
        yield AppFooter(compact=True)

    def on_mount(self) -> None:
        """Start explaining."""
        self.show_client(self.client_id)

    def on_screen_suspend(self) -> None:
        """Remember the theme the screen's styles were computed for."""
        self._styled_theme = self.app.theme

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Keep the styles of a screen shown again under the same theme (runs before Textual's handler).

        The screen is reused for every client; Textual restyles every widget of a resumed screen, some
        hundred of them, which was a third of the time to open a client. A theme changed meanwhile (the
        screen is not in the stack then, so Textual did not restyle it) still restyles everything.
        """
        if self._styled_theme == self.app.theme:
            event.refresh_styles = False

    @property
    def credit_app(self) -> CreditApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    @property
    def verdict(self) -> VerdictHeader:
        """The fixed header."""
        return self.query_one(VerdictHeader)

    @property
    def portfolio(self) -> PortfolioPane:
        """The Portfolio tab."""
        return self.query_one(PortfolioPane)

    @property
    def feature(self) -> str:
        """Feature shown in the Portfolio tab's histogram."""
        return self.portfolio.feature

    @property
    def tabs(self) -> TabbedContent:
        """The tabs."""
        return self.query_one(TabbedContent)

    # ------------------------------------------------------------------ client in

    def show_client(self, client_id: int, first_tab: bool = False) -> None:
        """Switch to another client: score, explain and fill every pane at once, in one batch.

        ``first_tab`` shows the Why tab (a client opened from the list; next/previous keep the tab).

        Explaining one client takes a few ms, less than a frame: the screen is drawn once with everything
        in it. The population histogram follows after that frame.
        """
        timer = _OpenTimer(self.credit_app) if self.credit_app.timings.enabled else None
        self.client_id = client_id
        self.credit_app.last_client_id = client_id
        self.latest = None
        if self.whatif_open:
            self.whatif_panel.stop()
            first_tab = True
        if first_tab:
            self.tabs.active = "why"
        portfolio, scorer, store = self.services.portfolio, self.services.scorer, self.services.audit
        try:
            record = portfolio.record(client_id)
            history = portfolio.history_record(client_id)
            explanation = scorer.explain(record, history)
            reasons = scorer.reasons(explanation)
            records = store.decisions(client_id=client_id) if store is not None else []
        except Exception as error:  # shown like any failed worker: a dialog, not a crash
            from credit_tui.errors import describe_error

            self.explanation, self.record = None, None
            with self.app.batch_update():
                self.verdict.show(client_id, None, None, None)
                self.query_one(ContributionBars).show(None)
            self.credit_app.show_error("Something went wrong", describe_error(error))
            return
        if timer is not None:
            timer.lap("explain")
        with self.app.batch_update():
            self._show_explained(client_id, record, history, explanation, reasons, records)
        if timer is not None:
            timer.lap("fill")
            self.call_after_refresh(timer.done, client_id)
        self.call_after_refresh(
            self.portfolio.show, client_id, explanation, scorer.threshold, scorer.review_band
        )

    def _show_explained(
        self,
        client_id: int,
        record: Mapping[str, Any],
        history: Mapping[str, float] | None,
        explanation: Explanation,
        reasons: list[str],
        records: list[DecisionRecord],
    ) -> None:
        """Fill every pane (call inside ``app.batch_update``)."""
        scorer = self.services.scorer
        self.explanation, self.reasons, self.record, self.history = (
            explanation,
            reasons,
            dict(record),
            history,
        )
        self.verdict.show(client_id, explanation, scorer.review_band, record)
        self._show_records(records)
        bars = self.query_one(ContributionBars)
        bars.top = 8 if self.app.size.height < SHORT_HEIGHT else 12
        bars.show(explanation)
        self.query_one(ReasonList).show(explanation, reasons)
        profile, past = profile_rows(record, explanation), history_rows(history)
        for selector, rows in (("#profile", profile), ("#side-profile", profile)):
            self.query_one(selector, KeyValuePanel).show(rows)
        for selector, rows in (("#history", past), ("#side-history", past)):
            self.query_one(selector, KeyValuePanel).show(rows)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Hand worker failures to the app's single error handler."""
        self.credit_app.on_worker_state_changed(event)

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        """Back to the client list."""
        self.dismiss(None)

    def action_tab(self, index: int) -> None:
        """Show tab ``index`` (0-based: Why, Profile, History, Portfolio, What-if, Decisions)."""
        self.tabs.active = TABS[index]

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

    def action_toggle_units(self) -> None:
        """Contributions in PD points or in log-odds (for analysts)."""
        bars = self.query_one(ContributionBars)
        bars.set_log_odds(not bars.log_odds)
        self.query_one("#bars-title", Label).update(BARS_TITLE[bars.log_odds])

    def action_next_feature(self) -> None:
        """Show the Portfolio tab with the next feature in the population histogram."""
        self.tabs.active = "portfolio-tab"
        self.portfolio.next_feature()

    # ------------------------------------------------------------------ decisions

    def _show_records(self, records: list[DecisionRecord]) -> None:
        self.latest = records[-1] if records else None
        recording = self.services.audit is not None
        self.verdict.show_latest(self.latest, recording)
        self.query_one(ClientDecisions).show(records, recording)

    def action_decide(self, final_decision: str) -> None:
        """Open the decision dialog for ACCEPT or REFUSE (the what-if values when a what-if is active)."""
        from credit_tui.decision_flow import draft_for, record_decision
        from credit_tui.screens.decision_dialog import DecisionDialog

        if self.services.audit is None:
            self.notify("No audit database is open, so decisions cannot be recorded.", severity="error")
            return
        if self.explanation is None or self.record is None:
            self.notify("The client is still being scored; try again in a moment.", severity="warning")
            return
        panel = self.whatif_panel
        problem = panel.problem()
        if problem is not None:
            self.notify(problem, severity="warning")
            return
        changes = panel.changes if panel.active else {}
        shown = panel.explanation if changes and panel.explanation is not None else self.explanation
        draft = draft_for(
            self.client_id, final_decision, self.record, self.history, shown, changes, self.latest
        )
        self.app.push_screen(
            DecisionDialog(draft, partial(record_decision, self.services, draft)), self._decided
        )

    def _decided(self, record: DecisionRecord | None) -> None:
        if record is None:
            return
        if record.client_id == self.client_id and self.services.audit is not None:
            self._show_records(self.services.audit.decisions(client_id=record.client_id))
        self.credit_app.search_screen.decision_recorded(record)
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
        self.query_one(ClientDecisions).write_letter(self.latest, self.credit_app.letters_dir, self.services)

    # ------------------------------------------------------------------ what-if

    @property
    def whatif_panel(self) -> WhatIfPanel:
        """The what-if panel (form, result, hint, buttons)."""
        return self.query_one(WhatIfPanel)

    @property
    def whatif_open(self) -> bool:
        """Whether a what-if is active."""
        return self.whatif_panel.active

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show the hint and reset keys only while a what-if is active."""
        if action in ("apply_hint", "reset_whatif"):
            return self.whatif_open
        return True

    async def action_whatif(self) -> None:
        """Open the What-if tab on the client's values, or close the what-if (the edits are dropped)."""
        panel = self.whatif_panel
        if panel.active:
            panel.stop()
            if isinstance(self.focused, Input):
                self.set_focus(None)
            self.tabs.active = "why"
            return
        if self.explanation is None or self.record is None:
            self.notify("The client is still being scored; try again in a moment.", severity="warning")
            return
        self.tabs.active = "whatif-tab"
        panel.start(self.services.scorer, self.client_id, self.record, self.history, self.explanation)
        self.call_after_refresh(lambda: panel.form.input_for("AMT_CREDIT").focus())

    def on_what_if_panel_changed(self, message: WhatIfPanel.Changed) -> None:
        """Mark the verdict header while a what-if is active; update the footer keys."""
        panel = message.panel
        self.verdict.show_whatif(self.explanation, panel.explanation, panel.active and bool(panel.changes))
        self.refresh_bindings()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Opening the What-if tab (key, click or arrows) starts a what-if on the client's values."""
        if event.pane.id == "whatif-tab" and not self.whatif_open:
            self.run_worker(self.action_whatif())

    def action_apply_hint(self) -> None:
        """Type the hint's changes into the form."""
        self.whatif_panel.apply_hint()

    def action_reset_whatif(self) -> None:
        """Put the client's own values back into the form."""
        self.whatif_panel.reset()
