"""Signed bars of a client's SHAP contributions: red ``+`` raises the risk, green ``-`` lowers it.

Shown in PD percentage points by default (:func:`trainer.reasons.feature_points`: the exact path from the
base rate, largest contributions first); analysts switch to log-odds with the client screen's key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from credit_tui.widgets.bars import signed_bar_text

if TYPE_CHECKING:
    from trainer.scoring import Explanation

TOP_N = 12


def fit(value: str, width: int, right: bool = False) -> str:
    """``value`` in exactly ``width`` cells: padded (right-aligned when ``right``) or cut with an ellipsis."""
    if width <= 0:
        return ""
    if len(value) > width:
        value = value[: width - 1] + "…"
    return value.rjust(width) if right else value.ljust(width)


def _points_text(delta: float) -> str:
    """PD points in six cells: one decimal, two below 0.1 point ("+1.2", "+0.04", "<0.01")."""
    points = delta * 100
    if abs(points) < 0.005:
        return "<0.01"
    return f"{points:+.2f}" if abs(points) < 0.1 else f"{points:+.1f}"


def distinct_labels(labels: list[str], width: int) -> list[str]:
    """Labels cut to ``width`` cells, never two alike: colliding cuts keep their ends ("Credit…(max)").

    A cut that would make two different labels read the same keeps the start and the end of each
    (the end is where "(max)" and "(mean)" differ), with the ellipsis in the middle.
    """
    cut = [fit(label, width) for label in labels]
    seen: dict[str, int] = {}
    for text in cut:
        seen[text] = seen.get(text, 0) + 1
    out = []
    for label, text in zip(labels, cut, strict=True):
        if seen[text] > 1 and len(label) > width and width >= 5:
            tail = max(2, (width - 1) // 2)
            text = label[: width - 1 - tail] + "…" + label[-tail:]
        out.append(text)
    return out


class ContributionBars(Widget):
    """The top contributions of an explanation and the sum of all the others."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"contribution-bars--up", "contribution-bars--down"}

    DEFAULT_CSS = """
    ContributionBars { height: auto; }
    ContributionBars > .contribution-bars--up { color: $text-error; }
    ContributionBars > .contribution-bars--down { color: $text-success; }
    """

    def __init__(self, *, id: str | None = None, top: int = TOP_N) -> None:
        super().__init__(id=id)
        self.explanation: Explanation | None = None
        self.top = top
        self.log_odds = False
        self._points: dict[str, float] = {}

    def show(self, explanation: Explanation | None) -> None:
        """Display an explanation (None while it is being computed)."""
        from trainer.reasons import feature_points

        before = len(self.rows())
        self.explanation = explanation
        self._points = feature_points(explanation) if explanation is not None else {}
        self.refresh(layout=len(self.rows()) != before)

    def set_log_odds(self, log_odds: bool) -> None:
        """Show log-odds (True) or PD points (False)."""
        self.log_odds = log_odds
        self.refresh()

    def shown(self) -> list[tuple[str, str, float]]:
        """The rows as drawn: (label, value shown, contribution in the current unit)."""
        if self.log_odds or self.explanation is None:
            return self.rows()
        head, _ = self.explanation.top(self.top)
        rows = [(c.label, c.display_value, self._points[c.feature]) for c in head]
        others = self.explanation.contributions[len(head) :]
        if others:
            rest = sum(self._points[c.feature] for c in others)
            rows.append((f"All {len(others)} other features", "", rest))
        return rows

    def rows(self) -> list[tuple[str, str, float]]:
        """(label, value shown, contribution) for each bar, the "all others" bar last."""
        if self.explanation is None:
            return []
        head, rest = self.explanation.top(self.top)
        rows = [(c.label, c.display_value, c.contribution) for c in head]
        others = len(self.explanation.contributions) - len(head)
        if others > 0:
            rows.append((f"All {others} other features", "", rest))
        return rows

    def render(self) -> RenderableType:
        """One line per bar: label, value, bar, log-odds (pre-formatted; no table to measure)."""
        rows = self.shown()
        if not rows:
            return Text("Computing the explanation…", style="dim")
        up = self.get_component_rich_style("contribution-bars--up")
        down = self.get_component_rich_style("contribution-bars--down")
        width = max(self.size.width, 40)
        value_width = min(16, max(len(v) for _, v, _ in rows) + 1)
        label_width = min(34, max(16, int(width * 0.4)))
        half = max(4, (width - label_width - value_width - 6 - 4) // 2)
        scale = max(abs(c) for _, _, c in rows) or 1.0
        text = Text(no_wrap=True, overflow="crop", end="")
        labels = distinct_labels([label for label, _, _ in rows], label_width)
        for i, ((label, value, contribution), shown) in enumerate(zip(rows, labels, strict=True)):
            if i:
                text.append("\n")
            text.append(Text(shown, style="italic" if label.startswith("All ") else ""))
            text.append(" ")
            text.append(fit(value, value_width, right=True))
            text.append(" ")
            text.append_text(signed_bar_text(contribution, scale, half, str(up), str(down)))
            text.append(" ")
            amount = f"{contribution:+.2f}" if self.log_odds else _points_text(contribution)
            text.append(amount.rjust(6), style=up if contribution > 0 else down)
        return text

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """One line per bar (or one line while computing)."""
        return max(1, len(self.rows()))
