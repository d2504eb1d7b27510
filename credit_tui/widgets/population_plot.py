"""Histogram of one feature over the portfolio with the client's value marked (textual-plotext)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text
from textual_plotext import PlotextPlot

from credit_tui.population import BINS, histogram

if TYPE_CHECKING:
    from credit_tui.population import Bins

__all__ = ["BINS", "PopulationPlot", "histogram"]


class PopulationPlot(PlotextPlot):
    """Where the client stands among all clients of the portfolio for one feature."""

    DEFAULT_CSS = """
    PopulationPlot { height: 12; min-height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawn: tuple[object, ...] | None = None
        self._text: Text | None = None
        self._version = 0

    def show(self, title: str, bins: Bins, client_value: float | None, shown: str) -> None:
        """Plot a histogram and mark ``client_value``.

        Args:
            title: Feature label.
            bins: Bin centres, counts and bin width (:meth:`credit_tui.population.Population.bins`).
            client_value: The client's value (None or NaN when unknown).
            shown: The client's value in human units, for the title.
        """
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        centres, counts, width = bins
        plt.title(f"{title}: this client {shown}")
        if centres:
            plt.bar(centres, counts, width=width * 0.9, color="blue")
            if client_value is not None and not math.isnan(client_value):
                mark = min(max(client_value, centres[0] - width / 2), centres[-1] + width / 2)
                plt.vertical_line(mark, color="red")
        plt.ylabel("clients")
        self._version += 1
        self.refresh()

    def render(self) -> Text:
        """The plot, built by plotext only when the data, the size or the theme changed."""
        key = (self._version, self.size, self.app.theme, self.theme)
        text = self._text
        if text is None or key != self._drawn:
            text = self._text = super().render()  # type: ignore[assignment]
            self._drawn = key
        return text  # type: ignore[return-value]
