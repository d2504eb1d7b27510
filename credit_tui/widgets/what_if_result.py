"""The what-if result beside the original: PD, decision, and the contributions that changed."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from trainer.plain import format_pd

if TYPE_CHECKING:
    from trainer.scoring import Explanation

#: Contributions listed at most.
MAX_CHANGED = 8
#: Smaller changes of a contribution (log-odds) are not listed.
MIN_DELTA = 1e-4


class WhatIfResult(Static):
    """Original vs what-if: PD and decision, then the largest changes of contributions."""

    DEFAULT_CSS = """
    WhatIfResult { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.original: Explanation | None = None
        self.whatif: Explanation | None = None
        self.changed: list[tuple[str, float, float]] = []
        self.note = ""

    def show(self, original: Explanation | None, whatif: Explanation | None, note: str = "") -> None:
        """Display the comparison (``whatif`` None: nothing edited yet, or ``note`` says why)."""
        self.original = original
        self.whatif = whatif
        self.changed = self._changed(original, whatif)
        self.note = note
        self.update(self._renderable(note))

    def plain(self, width: int = 100) -> str:
        """What the panel shows, as plain text."""
        console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
        console.print(self._renderable(self.note))
        return console.export_text()

    @staticmethod
    def _changed(original: Explanation | None, whatif: Explanation | None) -> list[tuple[str, float, float]]:
        if original is None or whatif is None:
            return []
        before = {c.feature: c for c in original.contributions}
        rows = []
        for after in whatif.contributions:
            old = before.get(after.feature)
            old_value = old.contribution if old is not None else 0.0
            if abs(after.contribution - old_value) >= MIN_DELTA:
                rows.append((after.label, old_value, after.contribution))
        rows.sort(key=lambda r: -abs(r[2] - r[1]))
        return rows[:MAX_CHANGED]

    def _renderable(self, note: str) -> RenderableType:
        original, whatif = self.original, self.whatif
        if original is None:
            return Text("Scoring…", style="dim")
        table = Table(box=None, padding=(0, 2), show_edge=False, expand=False)
        table.add_column("", style="dim")
        table.add_column("Original", justify="right")
        table.add_column("What-if", justify="right", style="bold")
        marks = [original.threshold]
        table.add_row(
            "PD", format_pd(original.pd, marks), "—" if whatif is None else format_pd(whatif.pd, marks)
        )
        table.add_row("Decision", original.decision, "—" if whatif is None else whatif.decision)
        parts: list[RenderableType] = [table]
        if note:
            parts.append(Text(note, style="dim"))
        if whatif is not None:
            if self.changed:
                changes = Table(box=None, padding=(0, 2), show_edge=False, title_justify="left")
                changes.add_column("Contributions that changed (log-odds)", style="dim")
                changes.add_column("Before", justify="right")
                changes.add_column("After", justify="right")
                for label, before, after in self.changed:
                    changes.add_row(label, f"{before:+.3f}", f"{after:+.3f}")
                parts.append(changes)
            else:
                parts.append(Text("No contribution changed.", style="dim"))
        return Group(*parts)
