"""Signed bars of a client's SHAP contributions: red ``+`` raises the risk, green ``-`` lowers it."""

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

    def show(self, explanation: Explanation | None) -> None:
        """Display an explanation (None while it is being computed)."""
        before = len(self.rows())
        self.explanation = explanation
        self.refresh(layout=len(self.rows()) != before)

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
        rows = self.rows()
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
            text.append(f"{contribution:+.2f}".rjust(6), style=up if contribution > 0 else down)
        return text

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """One line per bar (or one line while computing)."""
        return max(1, len(self.rows()))
