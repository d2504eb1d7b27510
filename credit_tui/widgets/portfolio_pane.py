"""The client screen's Portfolio tab: the PD gauge, where the client stands, and the feature histogram.

The pane owns the feature shown (``f`` cycles it) and computes the histogram in a worker (cached per
feature by :class:`~credit_tui.population.Population`); the client screen only calls :meth:`show`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from credit_tui.population import PD_FEATURE
from credit_tui.widgets.population_plot import PopulationPlot
from credit_tui.widgets.score_gauge import ScoreGauge
from credit_tui.widgets.worker_errors import WorkerErrorsToApp

if TYPE_CHECKING:
    from credit_tui.population import Bins, Population
    from trainer.scoring import Explanation


class PortfolioPane(WorkerErrorsToApp, Vertical):
    """Gauge, "riskier than N % of this portfolio", histogram with the client marked."""

    DEFAULT_CSS = """
    PortfolioPane { height: auto; }
    PortfolioPane > #gauge { margin: 1 0 0 0; }
    PortfolioPane > #position { height: auto; margin: 1 0 0 0; text-style: bold; }
    PortfolioPane > #population { height: 14; }
    """

    class Ready(Message):
        """The worker computed a feature's histogram and the client's place in it."""

        def __init__(self, client_id: int, feature: str, bins: Bins, sentence: str) -> None:
            self.client_id = client_id
            self.feature = feature
            self.bins = bins
            self.sentence = sentence
            super().__init__()

    def __init__(self, population: Population, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.population = population
        self.feature_index = 0
        self.client_id: int | None = None
        self.explanation: Explanation | None = None

    def compose(self) -> ComposeResult:
        """Gauge, sentence, histogram."""
        yield ScoreGauge(id="gauge")
        yield Static("", id="position")
        yield PopulationPlot(id="population")

    @property
    def feature(self) -> str:
        """Feature shown in the histogram."""
        return self.population.features[self.feature_index % len(self.population.features)]

    def show(
        self, client_id: int, explanation: Explanation, threshold: float, band: tuple[float, float] | None
    ) -> None:
        """Show a client: the gauge at once, the histogram when the worker answers."""
        self.client_id, self.explanation = client_id, explanation
        self.query_one(ScoreGauge).show(explanation.pd, threshold, band, explanation.decision)
        self.plot()

    def next_feature(self) -> None:
        """Show the next feature."""
        self.feature_index = (self.feature_index + 1) % len(self.population.features)
        self.plot()

    def _client_value(self, feature: str) -> float | str | None:
        if self.explanation is None:
            return None
        if feature == PD_FEATURE:
            return self.explanation.pd
        match = [c for c in self.explanation.contributions if c.feature == feature]
        return match[0].value if match else None

    def plot(self) -> None:
        """Compute the current feature's histogram in a worker."""
        if self.client_id is None:
            return
        value = self._client_value(self.feature)
        number = value if isinstance(value, int | float) else None
        self._bins(self.client_id, self.feature, number)

    @work(thread=True, exclusive=True, group="population", exit_on_error=False)
    def _bins(self, client_id: int, feature: str, value: float | None) -> None:
        bins = self.population.bins(feature)  # cached per feature for the portfolio
        sentence = self.population.position_sentence(feature, value)
        self.post_message(self.Ready(client_id, feature, bins, sentence))

    def on_portfolio_pane_ready(self, message: Ready) -> None:
        """Draw the histogram with the client's value marked, and say where the client stands."""
        message.stop()
        if message.client_id != self.client_id or message.feature != self.feature:
            return
        feature, value = message.feature, self._client_value(message.feature)
        self.query_one(PopulationPlot).show(
            self.population.label(feature),
            message.bins,
            float(value) if isinstance(value, int | float) else None,
            self.population.format(feature, value),
            partial(self.population.format, feature),
        )
        self.query_one("#position", Static).update(Text(message.sentence))
