"""SVG snapshots of every screen at 80x24, 120x40 and 200x60, dark and light.

One app run per size and theme walks the screens (list as a work queue, PD range dialog, client Why,
Portfolio and What-if tabs, decision dialog, decisions, model card, help, and the supervisors' Approvals
screen over a stand-in team log) and compares each screenshot.
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
from credit_tui.audit import AuditStore, DecisionRecord
from credit_tui.screens.approvals import ApprovalsScreen
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.decision_dialog import DecisionDialog
from credit_tui.screens.decisions import DecisionsScreen
from credit_tui.screens.dialogs import PdRangeDialog
from credit_tui.screens.help import HelpScreen
from credit_tui.screens.model_card import ModelCardScreen
from credit_tui.services import Services

SIZES = [(80, 24), (120, 40), (200, 60)]


class PendingLog:
    """A team log whose pending decisions are the given records (the Approvals screen without a server)."""

    team = True

    def __init__(self, records: list[DecisionRecord]) -> None:
        self.records = records

    def pending(self) -> list[DecisionRecord]:
        return self.records


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
            await pilot.press("escape")
            pending = [dataclasses.replace(record, override=True) for record in store.decisions()]
            app.push_screen(ApprovalsScreen(PendingLog(pending)))
            await settle(pilot)
            assert isinstance(app.screen, ApprovalsScreen)
            assert app.screen.table.row_count == len(pending) == 1
            snap("approvals")
    finally:
        store.close()
