"""One client: PD gauge, decision, SHAP contributions, reasons, profile, history, population position."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static
from textual.worker import Worker

from credit_tui.profile import history_rows, profile_rows
from credit_tui.widgets.contribution_bars import ContributionBars
from credit_tui.widgets.key_values import KeyValuePanel
from credit_tui.widgets.population_plot import PopulationPlot
from credit_tui.widgets.score_gauge import ScoreGauge

if TYPE_CHECKING:
    from credit_tui.app import CreditApp
    from credit_tui.client_index import ClientColumns
    from credit_tui.population import Population
    from credit_tui.services import Services
    from trainer.scoring import Explanation

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


class ClientScreen(Screen[None]):
    """Everything an advisor needs to decide on one client."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back"),
        Binding("right_square_bracket,n", "step(1)", "Next client", key_display="]"),
        Binding("left_square_bracket,b", "step(-1)", "Previous", key_display="["),
        Binding("f", "next_feature", "Feature"),
    ]

    class Explained(Message):
        """The explain worker finished for a client."""

        def __init__(
            self,
            client_id: int,
            record: Mapping[str, Any],
            history: Mapping[str, float] | None,
            explanation: Explanation,
            reasons: list[str],
        ) -> None:
            self.client_id = client_id
            self.record = record
            self.history = history
            self.explanation = explanation
            self.reasons = reasons
            super().__init__()

    class PopulationReady(Message):
        """Population values for the histogram are ready."""

        def __init__(self, client_id: int, feature: str, values: np.ndarray[Any, Any]) -> None:
            self.client_id = client_id
            self.feature = feature
            self.values = values
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

    def compose(self) -> ComposeResult:
        """Verdict, gauge, then two columns (one when narrow)."""
        yield Header(show_clock=False, icon="₿")
        with VerticalScroll(id="client-body"):
            with Horizontal(id="verdict-row"):
                yield Static("", id="client-title")
                yield Static("", id="badge")
                yield Static("", id="distance")
            yield ScoreGauge(id="gauge")
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
        """Switch to another client; the explanation runs in a worker (stale ones are cancelled)."""
        self.client_id = client_id
        self.query_one("#client-title", Static).update(Text(f"Client {client_id}", style="bold"))
        badge = self.query_one("#badge", Static)
        badge.update(" … ")
        badge.set_classes("badge")
        self.query_one("#distance", Static).update("Scoring…")
        if self.explanation is None:  # first client: placeholders; later ones keep the layout until ready
            self.query_one(ContributionBars).show(None)
            self.query_one(ScoreGauge).show(None, self.services.scorer.threshold, None, "ACCEPT")
        self.explanation = None
        self._explain(client_id)

    @work(thread=True, exclusive=True, group="explain", exit_on_error=False)
    def _explain(self, client_id: int) -> None:
        portfolio = self.services.portfolio
        scorer = self.services.scorer
        record = portfolio.record(client_id)
        history = portfolio.history_record(client_id)
        explanation = scorer.explain(record, history)
        reasons = scorer.reasons(explanation)
        self.post_message(self.Explained(client_id, record, history, explanation, reasons))

    def on_client_screen_explained(self, message: Explained) -> None:
        """Fill every panel with the finished explanation."""
        if message.client_id != self.client_id:
            return
        explanation = message.explanation
        scorer = self.services.scorer
        self.explanation = explanation
        self.reasons = message.reasons
        badge = self.query_one("#badge", Static)
        badge.update(f" {explanation.decision} ")
        badge.set_classes(f"badge -{explanation.decision.lower()}")
        self.query_one("#distance", Static).update(verdict_text(explanation, scorer.review_band))
        self.query_one(ScoreGauge).show(
            explanation.pd, scorer.threshold, scorer.review_band, explanation.decision
        )
        self.query_one(ContributionBars).show(explanation)
        self.query_one("#reasons", Static).update(self._reasons_text(explanation, message.reasons))
        self.query_one("#profile", KeyValuePanel).show(profile_rows(message.record, explanation))
        history = self.query_one("#history", KeyValuePanel)
        history.show(history_rows(message.history))
        self._plot_population()

    @staticmethod
    def _reasons_text(explanation: Explanation, reasons: list[str]) -> Text:
        if explanation.decision == "ACCEPT":
            return Text("Accepted: the PD is below the threshold.", style="dim")
        text = Text()
        for i, reason in enumerate(reasons):
            text.append(f"{'' if i == 0 else chr(10)}• {reason}")
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
        self._population_values(self.client_id, self.feature)

    @work(thread=True, exclusive=True, group="population", exit_on_error=False)
    def _population_values(self, client_id: int, feature: str) -> None:
        values = self.population.values(feature)
        self.post_message(self.PopulationReady(client_id, feature, values))

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
            self.population.label(feature), message.values, number, self.population.format(feature, value)
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
