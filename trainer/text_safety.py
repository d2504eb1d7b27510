r"""One policy for text that did not come from the code: control characters become visible escapes.

Values from a clients file, a history table, the audit log, a config file, the command line or what an
advisor types may hold terminal control sequences (``\x1b[2J`` clears the screen, ``\x1b]0;...\x07``
sets the window title, ``\x1b[15G`` moves the cursor) or line breaks that forge lines. Every such
value goes through :func:`clean_text` when it is loaded and again when it is shown: each C0 control
character except tab, each C1 control character and DEL becomes a visible escape such as ``\x1b``, so
the value stays readable (and auditable) but can no longer act on the terminal or split a line.

Markup is the other half of the policy and belongs to the renderers: a cleaned value is still shown as
``rich.text.Text`` (see ``credit_tui.render``), never parsed as markup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is not imported for the text checks: the app's launch path starts with them
    import pandas as pd

#: C0 controls except tab (0x09), DEL (0x7f) and the C1 controls (0x80-0x9f).
CONTROL_CHARS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
#: The same with tab: what a name or a one-line setting must not hold at all.
ANY_CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character :func:`clean_text` would escape."""
    return CONTROL_CHARS.search(text) is not None


def has_any_control(text: str) -> bool:
    """Whether ``text`` holds a control character, tab included (names and settings are refused)."""
    return ANY_CONTROL_CHARS.search(text) is not None


def clean_text(value: object) -> str:
    r"""Return ``str(value)`` with each control character replaced by a visible escape (``\x1b``).

    Tab is kept; every other C0 character, DEL and C1 characters are escaped. Idempotent: a cleaned
    string holds no control character, so cleaning it again changes nothing.
    """
    text = value if isinstance(value, str) else str(value)
    return CONTROL_CHARS.sub(_escape, text)


def first_control(values: Any) -> tuple[int, str] | None:
    """Return (position, value) of the first string in ``values`` holding a control character."""
    for position, value in enumerate(values):
        if isinstance(value, str) and has_control(value):
            return position, value
    return None


def clean_categories(values: pd.Series) -> pd.Series:
    """Escape control characters in the levels of a categorical column (a no-op for clean columns).

    Levels that become equal once cleaned are merged, so the result is always a valid categorical.
    """
    levels = [str(level) for level in values.cat.categories]
    if not any(has_control(level) for level in levels):
        return values
    cleaned = [clean_text(level) for level in levels]
    if len(set(cleaned)) == len(cleaned):
        return values.cat.rename_categories(cleaned)
    mapping = dict(zip(levels, cleaned, strict=True))
    return (
        values.astype("object")
        .map(lambda v: mapping.get(v, v) if isinstance(v, str) else v)
        .astype("category")
    )
