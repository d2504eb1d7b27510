"""Histogram of one feature over the portfolio with the client's value marked (textual-plotext)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from textual_plotext import PlotextPlot

BINS = 30


def histogram(values: np.ndarray[Any, Any]) -> tuple[list[float], list[int], float]:
    """Bin centres, counts and bin width of the finite values, outliers (1 %/99 %) clipped."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [], [], 1.0
    low, high = np.percentile(finite, [1, 99]) if finite.size > 100 else (finite.min(), finite.max())
    if high <= low:
        high = low + 1.0
    counts, edges = np.histogram(np.clip(finite, low, high), bins=BINS, range=(low, high))
    centres = ((edges[:-1] + edges[1:]) / 2).tolist()
    return [float(c) for c in centres], [int(c) for c in counts], float(edges[1] - edges[0])


class PopulationPlot(PlotextPlot):
    """Where the client stands among all clients of the portfolio for one feature."""

    DEFAULT_CSS = """
    PopulationPlot { height: 12; min-height: 8; }
    """

    def show(self, title: str, values: np.ndarray[Any, Any], client_value: float | None, shown: str) -> None:
        """Plot ``values`` and mark ``client_value``.

        Args:
            title: Feature label.
            values: Every client's value (NaN for missing).
            client_value: The client's value (None or NaN when unknown).
            shown: The client's value in human units, for the title.
        """
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        centres, counts, width = histogram(values)
        plt.title(f"{title}: this client {shown}")
        if centres:
            plt.bar(centres, counts, width=width * 0.9, color="blue")
            if client_value is not None and not math.isnan(client_value):
                mark = min(max(client_value, centres[0] - width / 2), centres[-1] + width / 2)
                plt.vertical_line(mark, color="red")
        plt.ylabel("clients")
        self.refresh()
