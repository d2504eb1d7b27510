"""The client ID search box: takes digits only, so every other key still works as a list key."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class SearchBox(Input):
    """An ID prefix box. Letters are never typed here: they reach the screen's and app's bindings.

    Escape, Down and Tab leave the box for the table (the footer says so).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,down,tab", "leave", "Back to list", key_display="esc"),
    ]

    class Left(Message):
        """The advisor left the box (the screen focuses the table)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="Client ID…",
            id=id,
            restrict=r"[0-9]*",
            max_length=12,
            select_on_focus=False,
        )

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Only digits are typed; other printable keys stay list and app keys."""
        return character is not None and character.isdigit()

    async def _on_key(self, event: events.Key) -> None:
        if event.character is not None and event.is_printable and not event.character.isdigit():
            event.prevent_default()  # not typed (Input's handler skipped): it bubbles to the bindings
            return
        await super()._on_key(event)

    def action_leave(self) -> None:
        """Back to the table."""
        self.post_message(self.Left())
