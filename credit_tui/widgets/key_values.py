"""A titled panel of label/value lines (profile and history summary)."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static


class KeyValuePanel(Static):
    """Label/value pairs in two aligned columns; a placeholder line while empty."""

    DEFAULT_CSS = """
    KeyValuePanel { height: auto; }
    """

    def __init__(self, placeholder: str, *, id: str | None = None) -> None:
        super().__init__(Text(placeholder, style="dim"), id=id)
        self.rows: list[tuple[str, str]] = []
        self.placeholder = placeholder

    def show(self, rows: list[tuple[str, str]] | None) -> None:
        """Display ``rows`` (None or empty: the placeholder)."""
        self.rows = list(rows or [])
        self.update(self._renderable())

    def _renderable(self) -> RenderableType:
        if not self.rows:
            return Text(self.placeholder, style="dim")
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", no_wrap=True, overflow="ellipsis", ratio=3)
        table.add_column(no_wrap=True, overflow="ellipsis", justify="right", ratio=2)
        for label, value in self.rows:
            table.add_row(label, value)
        return table
