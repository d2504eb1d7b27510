"""Histogram of one feature over the portfolio with the client's value marked (textual-plotext).

The x axis reads in the feature's own units (``150,000``, ``34.2 years``, ``12.0 %``), the y axis in
whole clients, and the client's marker carries a label, so no raw float ever reaches the advisor.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual_plotext import PlotextPlot

from credit_tui.population import BINS, histogram

if TYPE_CHECKING:
    from credit_tui.population import Bins

__all__ = ["BINS", "PopulationPlot", "count_ticks", "histogram", "value_ticks"]

X_TICKS = 4


def value_ticks(
    bins: Bins, fmt: Callable[[float], str], count: int = X_TICKS
) -> tuple[list[float], list[str]]:
    """Evenly spaced positions over the histogram's range and their labels in the feature's units."""
    centres, _, width = bins
    if not centres:
        return [], []
    low, high = centres[0] - width / 2, centres[-1] + width / 2
    positions = [low + (high - low) * i / (count - 1) for i in range(count)]
    return positions, [fmt(p) for p in positions]


def count_ticks(counts: list[int], count: int = 4) -> list[int]:
    """Whole-number y ticks from 0 to a round value at or above the largest count."""
    top = max(counts, default=0)
    if top <= 0:
        return [0, 1]
    raw = top / (count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return list(range(0, top + step, step))


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
        self.x_labels: list[str] = []
        self.y_ticks: list[int] = []

    def show(
        self,
        title: str,
        bins: Bins,
        client_value: float | None,
        shown: str,
        fmt: Callable[[float], str] = lambda v: f"{v:,.4g}",
    ) -> None:
        """Plot a histogram and mark ``client_value``.

        Args:
            title: Feature label.
            bins: Bin centres, counts and bin width (:meth:`credit_tui.population.Population.bins`).
            client_value: The client's value (None or NaN when unknown).
            shown: The client's value in human units, for the title and the marker's label.
            fmt: Formats a value of the feature in its units (the x axis labels).
        """
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        centres, counts, width = bins
        plt.title(f"{title}: this client {shown}")
        positions, self.x_labels = value_ticks(bins, fmt)
        self.y_ticks = count_ticks(counts)
        if centres:
            plt.bar(centres, counts, width=width * 0.9, color="blue")
            plt.xticks(positions, self.x_labels)
            plt.yticks([float(t) for t in self.y_ticks], [f"{t:,}" for t in self.y_ticks])
            if client_value is not None and not math.isnan(client_value):
                mark = min(max(client_value, centres[0] - width / 2), centres[-1] + width / 2)
                plt.vertical_line(mark, color="red")
                top = self.y_ticks[-1] if self.y_ticks else max(counts)
                right_half = mark > (centres[0] + centres[-1]) / 2
                if right_half:
                    plt.text("this client ▶", x=mark, y=top * 0.9, color="red", alignment="right")
                else:
                    plt.text("◀ this client", x=mark, y=top * 0.9, color="red", alignment="left")
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
