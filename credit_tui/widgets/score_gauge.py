"""The PD as a gauge, with the decision threshold and the review band marked."""

from __future__ import annotations

import math
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from trainer.plain import format_pd, format_threshold


def gauge_scale(pd_: float, threshold: float, band: tuple[float, float] | None) -> float:
    """Right end of the gauge: wide enough for the PD and ~3x the threshold, rounded to 5 %."""
    top = max(pd_ * 1.15, threshold * 3.0, band[1] * 1.5 if band else 0.0, 0.10)
    return min(1.0, math.ceil(top * 20) / 20)


class ScoreGauge(Widget):
    """A horizontal PD bar: green below the threshold, amber in the review band, red above."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "score-gauge--accept",
        "score-gauge--review",
        "score-gauge--refuse",
        "score-gauge--track",
        "score-gauge--band",
        "score-gauge--threshold",
    }

    DEFAULT_CSS = """
    ScoreGauge { height: 3; }
    ScoreGauge > .score-gauge--accept { color: $success; }
    ScoreGauge > .score-gauge--review { color: $warning; }
    ScoreGauge > .score-gauge--refuse { color: $error; }
    ScoreGauge > .score-gauge--track { color: $panel-lighten-2; }
    ScoreGauge > .score-gauge--band { color: $warning-darken-2; }
    ScoreGauge > .score-gauge--threshold { color: $foreground; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pd: float | None = None
        self.threshold = 0.5
        self.band: tuple[float, float] | None = None
        self.decision = "ACCEPT"

    def show(
        self, pd_: float | None, threshold: float, band: tuple[float, float] | None, decision: str
    ) -> None:
        """Set the PD (None while computing), the threshold, the review band and the decision."""
        self.pd, self.threshold, self.band, self.decision = pd_, threshold, band, decision
        self.refresh()

    def render(self) -> RenderableType:
        """Three lines: markers, bar, scale."""
        width = max(self.size.width, 20)
        if self.pd is None:
            return Text("PD …", style="dim")
        scale = gauge_scale(self.pd, self.threshold, self.band)

        def cell(value: float) -> int:
            return max(0, min(width - 1, int(value / scale * width)))

        style = self.get_component_rich_style(f"score-gauge--{self.decision.lower()}")
        track = self.get_component_rich_style("score-gauge--track")
        band_style = self.get_component_rich_style("score-gauge--band")
        mark_style = self.get_component_rich_style("score-gauge--threshold")
        filled = 0 if self.pd <= 0 else max(1, min(width, round(self.pd / scale * width)))
        t_cell = cell(self.threshold)
        band_cells = range(cell(self.band[0]), cell(self.band[1]) + 1) if self.band else range(0)
        bar = Text()
        for i in range(width):
            if i < filled:
                bar.append("█", style)
            elif i in band_cells:
                bar.append("▒", band_style)
            else:
                bar.append("░", track)
        markers = Text(" " * width)
        label = f"▼ threshold {format_threshold(self.threshold)}"
        start = t_cell if t_cell + len(label) <= width else max(0, t_cell - len(label) + 1)
        if start != t_cell:
            label = f"threshold {format_threshold(self.threshold)} ▼"
        markers = Text(" " * start) + Text(label, mark_style)
        scale_line = Text("0 %")
        end = f"{scale:.0%}"
        pd_text = f"PD {format_pd(self.pd, [self.threshold, *(self.band or ())])}"
        middle = max(1, min(filled, width - len(end) - len(pd_text) - 1) - len(pd_text) // 2 - 3)
        scale_line.append(" " * max(1, middle))
        scale_line.append(pd_text, style)
        scale_line.pad_right(max(0, width - len(scale_line) - len(end)))
        scale_line.append(end)
        return Text("\n").join([markers, bar, scale_line])
