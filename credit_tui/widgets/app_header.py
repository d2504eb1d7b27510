"""The header every screen shows (app title, advisor and model, no clock) and the keys every footer shows."""

from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.widgets import Header

#: Shown at the left of the header: the lender's currency, not a decoration that could mislead.
HEADER_ICON = "€"


def app_header() -> Header:
    """A header without a clock (snapshots stay deterministic) and with the app's icon."""
    return Header(show_clock=False, icon=HEADER_ICON)


def essential_bindings() -> list[BindingType]:
    """Help, Decisions and Quit: first in every screen's bindings so its footer shows them at any width."""
    return [
        Binding("f1,question_mark", "app.help", "Help", key_display="?"),
        Binding("h", "app.decisions", "Decisions"),
        Binding("q", "app.quit", "Quit"),
    ]
