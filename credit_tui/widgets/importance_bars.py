"""Global feature importance (mean |SHAP|) as horizontal bars, for the model card."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from credit_tui.widgets.bars import bar_text

if TYPE_CHECKING:
    from trainer.contract import Importance

TOP_N = 15


class ImportanceBars(Widget):
    """The most important features of the model, largest first."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"importance-bars--bar"}

    DEFAULT_CSS = """
    ImportanceBars { height: auto; }
    ImportanceBars > .importance-bars--bar { color: $accent; }
    """

    def __init__(self, importance: Sequence[Importance], *, top: int = TOP_N, id: str | None = None) -> None:
        super().__init__(id=id)
        from trainer.labels import feature_label

        ranked = sorted(importance, key=lambda item: -item.mean_abs_shap)[:top]
        self.items = [(feature_label(item.feature).label, float(item.mean_abs_shap)) for item in ranked]

    def render(self) -> RenderableType:
        """Label, bar, value."""
        if not self.items:
            return Text("The bundle lists no feature importance.", style="dim")
        style = str(self.get_component_rich_style("importance-bars--bar"))
        width = max(self.size.width, 40)
        label_width = min(36, max(16, width // 2 - 6))
        bar_width = max(6, width - label_width - 8)
        scale = max(v for _, v in self.items) or 1.0
        table = Table.grid(padding=(0, 1))
        table.add_column(width=label_width, no_wrap=True, overflow="ellipsis")
        table.add_column(width=bar_width, no_wrap=True)
        table.add_column(width=5, justify="right", no_wrap=True)
        for label, value in self.items:
            table.add_row(label, bar_text(value, scale, bar_width, style), f"{value:.2f}")
        return table

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """One line per feature."""
        return max(1, len(self.items))
