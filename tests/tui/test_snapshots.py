"""SVG snapshots of the search, client and model card screens at 120x40 and 80x24.

Own helper (``tui_helpers.assert_snapshot``) instead of pytest-textual-snapshot, whose syrupy pin needs
pytest < 9. Update with ``UPDATE_SNAPSHOTS=1 pytest tests/tui/test_snapshots.py``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tui_helpers import assert_snapshot, ready, scores_of, settle

from credit_tui.app import create_app
from credit_tui.audit import open_audit_store
from credit_tui.screens.client import ClientScreen
from credit_tui.screens.model_card import ModelCardScreen
from credit_tui.services import Services

SIZES = [(120, 40), (80, 24)]


def size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_search_screen(snapshot_services: Services, size: tuple[int, int]) -> None:
    app = create_app(services=snapshot_services)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        app.search_screen.search_input.cursor_blink = False
        await pilot.press("d", "d", "d")  # REFUSE only
        await pilot.pause()
        assert_snapshot(app, f"search_{size_id(size)}")


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_client_screen(snapshot_services: Services, size: tuple[int, int], tmp_path: Path) -> None:
    refused = min(i for i, (_, d) in scores_of(snapshot_services).items() if d == "REFUSE")
    with open_audit_store(tmp_path / "audit.sqlite3") as store:
        app = create_app(services=dataclasses.replace(snapshot_services, audit=store))
        async with app.run_test(size=size) as pilot:
            await ready(pilot)
            assert app.open_client(refused)
            await settle(pilot)
            assert isinstance(app.screen, ClientScreen)
            assert app.screen.explanation is not None
            assert_snapshot(app, f"client_{size_id(size)}")


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_model_card_screen(snapshot_services: Services, size: tuple[int, int]) -> None:
    app = create_app(services=snapshot_services)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, ModelCardScreen)
        assert_snapshot(app, f"model_card_{size_id(size)}")
