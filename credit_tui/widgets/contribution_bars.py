"""Signed horizontal bars of a client's SHAP contributions: red raises the risk, green lowers it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from credit_tui.widgets.bars import signed_bar_text

if TYPE_CHECKING:
    from trainer.scoring import Explanation

TOP_N = 12


class ContributionBars(Widget):
    """The top contributions of an explanation and the sum of all the others."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"contribution-bars--up", "contribution-bars--down"}

    DEFAULT_CSS = """
    ContributionBars { height: auto; }
    ContributionBars > .contribution-bars--up { color: $error; }
    ContributionBars > .contribution-bars--down { color: $success; }
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
        """A table: label, value, bar, log-odds."""
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
        table = Table.grid(padding=(0, 1))
        table.add_column(width=label_width, no_wrap=True, overflow="ellipsis")
        table.add_column(width=value_width, justify="right", no_wrap=True, overflow="ellipsis")
        table.add_column(width=2 * half + 1, no_wrap=True)
        table.add_column(width=6, justify="right", no_wrap=True)
        for label, value, contribution in rows:
            style = up if contribution > 0 else down
            table.add_row(
                Text(label, style="italic" if label.startswith("All ") else ""),
                value,
                signed_bar_text(contribution, scale, half, str(up), str(down)),
                Text(f"{contribution:+.2f}", style=style),
            )
        return table

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """One line per bar (or one line while computing)."""
        return max(1, len(self.rows()))
