"""A titled panel of label/value lines (profile and history summary)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from trainer.text_safety import clean_text

#: Cells between the label and the value column.
GAP = 2


def key_value_lines(rows: list[tuple[str, str]], width: int) -> Text:
    """Label/value lines for ``width`` cells: labels (dim) on the left, values right-aligned at the edge.

    The value column is as wide as the longest value, or when labels and values do not both fit, as
    wide as the room the longest label leaves but at least half the width; the labels get the rest.
    Either is cut with an ellipsis when too long. Plain lines, no table to measure.
    """
    longest_value = max((len(value) for _, value in rows), default=0)
    longest_label = max((len(label) for label, _ in rows), default=0)
    room = max(1, width - GAP)
    value_width = min(longest_value, max(room - longest_label, room // 2))
    label_width = max(1, width - GAP - value_width)
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for i, (label, value) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(_cell(label, label_width, right=False) + " " * GAP, style="dim")
        text.append(_cell(value, value_width, right=True))
    return text


def _cell(value: str, width: int, right: bool) -> str:
    value = clean_text(value)
    if width <= 0:
        return ""
    if len(value) > width:
        value = value[: width - 1] + "…"
    return value.rjust(width) if right else value.ljust(width)


class KeyValuePanel(Widget):
    """Label/value pairs in two aligned columns; a placeholder line while empty.

    :meth:`show` only repaints; the layout is refreshed only when the number of lines changes.
    """

    DEFAULT_CSS = """
    KeyValuePanel { height: auto; }
    """

    def __init__(self, placeholder: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[tuple[str, str]] = []
        self.placeholder = placeholder

    def show(self, rows: list[tuple[str, str]] | None) -> None:
        """Display ``rows`` (None or empty: the placeholder)."""
        before = max(1, len(self.rows))
        self.rows = list(rows or [])
        self.refresh(layout=max(1, len(self.rows)) != before)

    def render(self) -> Text:
        """The lines for the current width."""
        if not self.rows:
            return Text(self.placeholder, style="dim")
        return key_value_lines(self.rows, self.size.width)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """One line per row (or the placeholder line)."""
        return max(1, len(self.rows))
