"""The header every screen shows: app title, advisor and model (set by the app), no clock."""

from __future__ import annotations

from textual.widgets import Header

#: Shown at the left of the header: the lender's currency, not a decoration that could mislead.
HEADER_ICON = "€"


def app_header() -> Header:
    """A header without a clock (snapshots stay deterministic) and with the app's icon."""
    return Header(show_clock=False, icon=HEADER_ICON)
