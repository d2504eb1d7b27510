"""The header every screen shows (app title, advisor and model, no clock), the footer and its keys."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header

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


class AppFooter(Footer):
    """Textual's footer, recomposed only when the keys it shows change.

    Textual's own footer rebuilds all its key widgets whenever the screen's bindings are refreshed, which
    happens on every screen switch: opening a client and going back to the list each rebuilt some thirty
    keys, restyled every one of them and left their styles to the cycle collector (a full collection every
    few clients). The keys shown depend only on the active bindings, so an unchanged set keeps its widgets.
    """

    def __init__(self, *, compact: bool = False, id: str | None = None) -> None:
        super().__init__(compact=compact, id=id)
        self._shown: tuple[Any, ...] | None = None

    def _keys(self) -> tuple[Any, ...]:
        """What the footer is composed from: every active binding with its state."""
        return tuple(
            (binding.key, binding.action, binding.description, binding.show, binding.group, enabled, tooltip)
            for _, binding, enabled, tooltip in self.screen.active_bindings.values()
        )

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Recompose after the refresh when the keys to show are not the ones shown."""
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return
        keys = self._keys()
        if keys != self._shown:
            self._shown = keys
            await self.recompose()
