"""A virtual table of clients: draws only the visible rows of a numpy index over column arrays.

Textual's DataTable stores and measures every row (33 s to rebuild at 307k rows).
This widget keeps nothing but a reference to :class:`~credit_tui.client_index.ClientColumns` and an index
array of row positions; ``render_line`` formats the handful of rows on screen.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from credit_tui.client_index import (
    COLUMN_TITLES,
    DECISIONS,
    SORT_KEYS,
    STATUSES,
    ClientColumns,
    IntArray,
    SortKey,
)
from trainer.text_safety import clean_text

#: Column widths at 80 columns (the sorted column gets 2 more for its arrow); wider screens share the rest.
_BASE_WIDTHS: dict[SortKey, int] = {
    "id": 6,
    "status": 10,
    "decision": 6,
    "pd": 5,
    "contract": 10,
    "credit": 9,
    "income": 11,
    "term": 7,
    "age": 3,
}
_RIGHT_ALIGNED = frozenset({"id", "pd", "credit", "income", "term", "age"})
#: Columns left out, in this order, when the table is narrower than the base widths.
_DROP_ORDER: tuple[SortKey, ...] = ("age", "term", "contract")
PENDING_MARK = "…"


def _amount(value: float) -> str:
    return "" if math.isnan(value) else f"{value:,.0f}"


class ClientTable(ScrollView, can_focus=True):
    """The client list: a fixed header line, then one line per client of :attr:`index`.

    Attributes are set by the owning screen (``columns``, ``index``, ``sort``); the table answers with
    messages (``Selected``, ``SortRequested``, ``Highlighted``).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Open", tooltip="Open client"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "client-table--header",
        "client-table--cursor",
        "client-table--accept",
        "client-table--review",
        "client-table--refuse",
        "client-table--pending",
    }

    DEFAULT_CSS = """
    ClientTable {
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    ClientTable > .client-table--header { text-style: bold; background: $panel; color: $foreground; }
    ClientTable > .client-table--cursor { background: $block-cursor-blurred-background; }
    ClientTable:focus > .client-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    ClientTable > .client-table--accept { color: $text-success; }
    ClientTable > .client-table--review { color: $text-warning; }
    ClientTable > .client-table--refuse { color: $text-error; text-style: bold; }
    ClientTable > .client-table--pending { color: $text-muted; }
    """

    cursor_row: reactive[int] = reactive(0)
    """Position of the highlighted row in :attr:`index`."""

    class Selected(Message):
        """The advisor pressed Enter (or double-clicked) on a client."""

        def __init__(self, client_id: int) -> None:
            self.client_id = client_id
            super().__init__()

    class Highlighted(Message):
        """The cursor moved to another client."""

        def __init__(self, client_id: int | None) -> None:
            self.client_id = client_id
            super().__init__()

    class SortRequested(Message):
        """The advisor clicked a column title."""

        def __init__(self, key: SortKey) -> None:
            self.key = key
            super().__init__()

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._columns: ClientColumns | None = None
        self._index: IntArray = np.empty(0, dtype=np.int64)
        self.sort_key: SortKey = "id"
        self.descending = False
        self._gap = 1

    # ------------------------------------------------------------------ data in

    @property
    def index(self) -> IntArray:
        """Row positions shown, in display order."""
        return self._index

    def show(
        self, columns: ClientColumns, index: IntArray, sort_key: SortKey, descending: bool, keep: int | None
    ) -> None:
        """Display ``index`` rows of ``columns``.

        Args:
            columns: The column arrays.
            index: Row positions to show, in order.
            sort_key: Column the index is sorted by (marked in the header).
            descending: Sort direction (marked in the header).
            keep: Client ID to keep the cursor on when it is still shown (else the cursor goes to the top).
        """
        self._columns = columns
        self._index = index
        self.sort_key = sort_key
        self.descending = descending
        row = 0
        if keep is not None:
            position = columns.position(keep)
            if position is not None:
                hits = np.flatnonzero(index == position)
                if len(hits):
                    row = int(hits[0])
        self._set_virtual_height(len(index) + 1)
        self.cursor_row = row
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Highlighted(self.highlighted_id))

    def _set_virtual_height(self, height: int) -> None:
        """Resize the scrollable area without a layout pass of the whole screen.

        The table's own size is fixed by CSS; the scrollbars are updated (a scrollbar appearing or going
        still lays out).
        """
        size = Size(self.size.width, height)
        if size != self.virtual_size:
            self.set_reactive(ClientTable.virtual_size, size)
            self._scroll_update(size)

    def highlight_client(self, client_id: int) -> bool:
        """Put the cursor on a client's row (scrolled into view); False when it is not shown."""
        if self._columns is None:
            return False
        position = self._columns.position(client_id)
        if position is None:
            return False
        hits = np.flatnonzero(self._index == position)
        if not len(hits):
            return False
        self._move_to(int(hits[0]))
        return True

    def refresh_values(self) -> None:
        """Redraw after scores arrived (the index is unchanged)."""
        self.refresh()

    @property
    def highlighted_id(self) -> int | None:
        """Client ID under the cursor (None when the list is empty)."""
        if self._columns is None or not 0 <= self.cursor_row < len(self._index):
            return None
        return int(self._columns.ids[self._index[self.cursor_row]])

    def ids_in_order(self) -> IntArray:
        """Client IDs in display order (for next/previous client)."""
        if self._columns is None:
            return np.empty(0, dtype=np.int64)
        return self._columns.ids[self._index]

    # ------------------------------------------------------------------ layout

    def _widths(self) -> list[tuple[SortKey, int]]:
        available = max(self.scrollable_content_region.width, 20)
        base = {key: _BASE_WIDTHS[key] + (2 if key == self.sort_key else 0) for key in SORT_KEYS}
        keys = list(SORT_KEYS)
        for dropped in _DROP_ORDER:
            if sum(base[k] for k in keys) + len(keys) - 1 <= available or dropped == self.sort_key:
                break
            keys.remove(dropped)
        total = sum(base[k] for k in keys)
        gaps = len(keys) - 1
        gap = 2 if total + 2 * gaps <= available else 1
        extra = max(0, available - total - gap * gaps)
        widths = [(key, base[key]) for key in keys]
        if extra:
            share = min(extra // len(widths), 6)
            widths = [(key, width + share) for key, width in widths]
        self._gap = gap
        return widths

    def _cells(self, position: int) -> dict[SortKey, str]:
        columns = self._columns
        assert columns is not None
        code = int(columns.decision[position])
        pd_value = float(columns.pd[position])
        contract = int(columns.contract_codes[position])
        age = float(columns.age[position])
        term = float(columns.term[position])
        return {
            "id": str(columns.ids[position]),
            "status": STATUSES[int(columns.status[position])],
            "decision": DECISIONS[code] if code >= 0 else PENDING_MARK,
            "pd": PENDING_MARK if math.isnan(pd_value) else f"{pd_value * 100:.1f}",
            "contract": columns.contract_levels[contract] if contract >= 0 else "unknown",
            "credit": _amount(float(columns.credit[position])),
            "income": _amount(float(columns.income[position])),
            "term": "" if math.isnan(term) else f"{term:.0f}",
            "age": "" if math.isnan(age) else f"{age:.0f}",
        }

    def _line(self, texts: list[tuple[str, Style]], width: int, base: Style) -> Strip:
        segments = []
        for i, (text, style) in enumerate(texts):
            if i:
                segments.append(Segment(" " * self._gap, base))
            segments.append(Segment(text, base + style))
        strip = Strip(segments)
        return strip.crop_extend(0, width, base)

    @staticmethod
    def _fit(text: str, width: int, right: bool) -> str:
        """The cell's text in exactly ``width`` terminal cells: no control character, wide ones counted."""
        text = clean_text(text)  # every cell goes to the terminal as is: no control character may pass
        if cell_len(text) > width:
            text = set_cell_size(text, max(width - 1, 0)) + "…"
        pad = " " * max(width - cell_len(text), 0)
        return pad + text if right else text + pad

    def render_line(self, y: int) -> Strip:
        """Draw line ``y`` of the visible region: the header at 0, then clients."""
        width = self.scrollable_content_region.width
        widths = self._widths()
        if y == 0:
            header = self.get_component_rich_style("client-table--header")
            cells = []
            for key, w in widths:
                title = COLUMN_TITLES[key]
                if key == self.sort_key:
                    title += " ▼" if self.descending else " ▲"
                cells.append((self._fit(title, w, key in _RIGHT_ALIGNED), Style()))
            return self._line(cells, width, header)
        row = int(self.scroll_offset.y) + y - 1
        base = self.rich_style
        if self._columns is None or row >= len(self._index):
            return Strip.blank(width, base)
        if row == self.cursor_row:
            base = base + self.get_component_rich_style("client-table--cursor")
        values = self._cells(int(self._index[row]))
        cells = []
        for key, w in widths:
            style = Style()
            if key == "decision":
                name = values[key].lower() if values[key] != PENDING_MARK else "pending"
                style = self.get_component_rich_style(f"client-table--{name}", partial=True)
            elif key == "status" and values[key] != STATUSES[0]:
                style = Style(bold=True)
            elif values[key] == PENDING_MARK:
                style = self.get_component_rich_style("client-table--pending", partial=True)
            cells.append((self._fit(values[key], w, key in _RIGHT_ALIGNED), style))
        return self._line(cells, width, base)

    # ------------------------------------------------------------------ cursor

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_offset.y)
        page = self._page
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False, immediate=True)

    def watch_cursor_row(self, old: int, new: int) -> None:
        """Redraw and announce the highlighted client."""
        self.refresh()

    def _move_to(self, row: int) -> None:
        if not len(self._index):
            return
        row = max(0, min(len(self._index) - 1, row))
        if row != self.cursor_row:
            self.cursor_row = row
            self._scroll_cursor_into_view()
            self.post_message(self.Highlighted(self.highlighted_id))

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows."""
        self._move_to(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        """Move the cursor by a page."""
        self._move_to(self.cursor_row + direction * self._page)

    def action_first(self) -> None:
        """Go to the first client."""
        self._move_to(0)

    def action_last(self) -> None:
        """Go to the last client."""
        self._move_to(len(self._index) - 1)

    def action_select(self) -> None:
        """Open the highlighted client."""
        client_id = self.highlighted_id
        if client_id is not None:
            self.post_message(self.Selected(client_id))

    # ------------------------------------------------------------------ mouse

    def _key_at(self, x: int) -> SortKey | None:
        left = 0
        for key, w in self._widths():
            if left <= x < left + w + self._gap:
                return key
            left += w + self._gap
        return None

    def on_click(self, event: events.Click) -> None:
        """Click a title to sort, a row to highlight it, the highlighted row to open it."""
        if event.y == 0:
            key = self._key_at(event.x)
            if key is not None:
                self.post_message(self.SortRequested(key))
            return
        row = int(self.scroll_offset.y) + event.y - 1
        if 0 <= row < len(self._index):
            if row == self.cursor_row or event.chain > 1:
                self.action_select()
            else:
                self._move_to(row)

    def on_resize(self, event: events.Resize) -> None:
        """Keep the scrollable size in step with the widget."""
        self.virtual_size = Size(event.size.width, len(self._index) + 1)

    def notify_style_update(self) -> None:
        """Redraw with the new theme's colours."""
        super().notify_style_update()
        self.refresh()
