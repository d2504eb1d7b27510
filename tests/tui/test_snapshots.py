"""SVG snapshots of every screen at 80x24, 120x40 and 200x60, dark and light.

One app run per size and theme walks the screens (list as a work queue, client Why and What-if tabs,
decision dialog, decisions, model card, help) and compares each screenshot. To keep the files few,
the light theme is kept for every screen at 80x24 and for the list and the client at the larger sizes.
Own helper (``tui_helpers.assert_snapshot``) instead of pytest-textual-snapshot, whose syrupy pin needs
pytest < 9. Update with ``UPDATE_SNAPSHOTS=1 pytest tests/tui/test_snapshots.py``.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from decision_helpers import clients_with, seed
from textual.widgets import Input
from tui_helpers import assert_snapshot, ready, settle

from credit_tui.app import CreditApp, create_app
from credit_tui.audit import AuditStore
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.decision_dialog import DecisionDialog
from credit_tui.screens.decisions import DecisionsScreen
from credit_tui.screens.dialogs import PdRangeDialog
from credit_tui.screens.help import HelpScreen
from credit_tui.screens.model_card import ModelCardScreen
from credit_tui.services import Services

SIZES = [(80, 24), (120, 40), (200, 60)]


def no_blink(app: CreditApp) -> None:
    """Cursor blink off in every input of the screen (deterministic screenshots)."""
    for box in app.screen.query(Input):
        box.cursor_blink = False


@pytest.mark.parametrize("dark", [True, False], ids=["dark", "light"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_screen(
    snapshot_services: Services, size: tuple[int, int], dark: bool, tmp_path: Path
) -> None:
    refused = clients_with(snapshot_services, "REFUSE")[0]
    store = AuditStore(tmp_path / "audit.sqlite3", clock=lambda: datetime(2026, 1, 2, 9, 30, tzinfo=UTC))
    seed(store, snapshot_services, refused, "REFUSE", advisor="advisor")
    theme = "dark" if dark else "light"

    def snap(name: str) -> None:
        no_blink(app)
        assert_snapshot(app, f"{name}_{size[0]}x{size[1]}_{theme}")

    app = create_app(services=dataclasses.replace(snapshot_services, audit=store), dark=dark)
    try:
        async with app.run_test(size=size) as pilot:
            await ready(pilot)
            await pilot.press("u")  # the work queue: REVIEW clients not yet decided
            await pilot.pause()
            snap("search")
            await pilot.press("p")
            await pilot.pause()
            assert isinstance(app.screen, PdRangeDialog)
            snap("pd_range")
            await pilot.press("escape", "x")
            assert app.open_client(refused)
            await settle(pilot)
            assert isinstance(app.screen, ClientScreen)
            app.screen.set_focus(None)
            await pilot.pause()
            snap("client")
            await pilot.press("4")
            await settle(pilot)
            snap("client_portfolio")
            await pilot.press("w")
            await settle(pilot)
            await settle(pilot)
            snap("client_whatif")
            await pilot.press("escape", "w")  # leave the form, drop the what-if
            await settle(pilot)
            await pilot.press("a")
            await pilot.pause()
            assert isinstance(app.screen, DecisionDialog)
            snap("decision_dialog")
            await pilot.press("escape")
            await pilot.press("h")
            await settle(pilot)
            assert isinstance(app.screen, DecisionsScreen)
            snap("decisions")
            await pilot.press("escape", "m")
            await pilot.pause()
            assert isinstance(app.screen, ModelCardScreen)
            snap("model_card")
            await pilot.press("escape", "question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            snap("help")
    finally:
        store.close()
