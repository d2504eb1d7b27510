"""The header every screen shows (app title, advisor and model, no clock) and the keys every footer shows."""

from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.widgets import Header

#: Shown at the left of the header: the lender's currency, not a decoration that could mislead.
HEADER_ICON = "€"


def app_header() -> Header:
    """A header without a clock (snapshots stay deterministic) and with the app's icon."""
    return Header(show_clock=False, icon=HEADER_ICON)


APP_BINDINGS: list[BindingType] = [
    Binding("f1,question_mark", "help", "Help", key_display="?"),
    Binding("m", "model_card", "Model", tooltip="Model card"),
    Binding("h", "decisions", "Decisions"),
    Binding("A", "approvals", "Approvals", show=False),
    Binding("ctrl+t", "toggle_theme", "Theme"),
    Binding("q", "quit", "Quit"),
]
"""The app's own keys (active everywhere); here so the help screen lists them without importing the app."""


def essential_bindings() -> list[BindingType]:
    """Help, Decisions and Quit: first in every screen's bindings so its footer shows them at any width."""
    return [
        Binding("f1,question_mark", "app.help", "Help", key_display="?"),
        Binding("h", "app.decisions", "Decisions"),
        Binding("q", "app.quit", "Quit"),
    ]
