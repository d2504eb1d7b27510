r"""Render values that did not come from the code: always ``Text``, never markup, no control characters.

The one place the TUI turns a value from a file, the audit log, the command line or an advisor's typing
into something drawn on screen. :func:`plain` escapes control characters (``trainer.text_safety``) and
returns ``rich.text.Text``, which Textual never parses as markup, so ``[/]``, ``[@click=app.quit]`` or
``[link=...]`` in a value are shown as typed, and ``ESC [2J`` is shown as ``\x1b[2J``.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from trainer.text_safety import clean_text


def plain(value: object, style: str | Style = "") -> Text:
    """``value`` as literal text: control characters escaped, no markup parsed."""
    return Text(clean_text(value), style=style, end="")


def safe(value: object) -> str:
    """``value`` as a string without control characters (for widgets that take ``str`` without markup)."""
    return clean_text(value)
